#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <p11enroll.h>

#if !P11E_CHECK_VERSION(1, 0, 0)
#error "libp11enroll 1.0 or later is needed"
#endif

/* Asked when no PIN source was given: here the PIN is in $USER_PIN. */
static int pin_from_env(void *data, p11e_pin_role role, const char *token_label,
                        const char *token_uri, unsigned flags, char *buf, size_t size)
{
	const char *pin = getenv(data);

	(void)token_label;
	(void)token_uri;
	(void)flags;
	if (role != P11E_PIN_USER || !pin)
		return P11E_PIN_ANSWER_UNAVAILABLE;
	if (strlen(pin) >= size)
		return P11E_PIN_ANSWER_FAILED;
	memcpy(buf, pin, strlen(pin) + 1);
	return (int)strlen(pin);
}

int main(void)
{
	p11e_ctx *ctx = p11e_ctx_new();
	p11e_req *req = p11e_req_new();
	p11e_key key;
	p11e_pin *pin = NULL;
	unsigned char *csr = NULL;
	size_t len = 0;
	int reused = 0;
	p11e_status st = ctx && req ? P11E_OK : P11E_ERR_FAILED;

	if (st == P11E_OK) {
		p11e_ctx_set_pin_callback(ctx, pin_from_env, "USER_PIN");
		st = p11e_req_set_subject(req, "/O=Example/CN=client.example");
	}
	if (st == P11E_OK)
		st = p11e_req_add_san(req, "DNS:client.example");
	if (st == P11E_OK)
		st = p11e_module_load(ctx, NULL);
	if (st == P11E_OK)
		st = p11e_token_select(ctx, "demo");
	if (st == P11E_OK)
		st = p11e_pin_read(ctx, NULL, P11E_PIN_USER, &pin);
	if (st == P11E_OK)
		st = p11e_login(ctx, P11E_PIN_USER, pin);
	if (st == P11E_OK)
		st = p11e_enroll(ctx, "ec:P-256", "client", NULL, 0, req, P11E_FORMAT_PEM, &key,
		                 &reused, &csr, &len);
	if (st == P11E_OK) {
		fwrite(csr, 1, len, stdout);
		fprintf(stderr, "%s key %s\n", reused ? "reused" : "new", key.uri);
		p11e_key_clear(&key);
	} else {
		fprintf(stderr, "enrol: %s\n", ctx ? p11e_error_message(ctx) : "out of memory");
	}
	p11e_free(csr);
	p11e_pin_free(pin);
	p11e_req_free(req);
	p11e_ctx_free(ctx);
	return (int)st;
}
