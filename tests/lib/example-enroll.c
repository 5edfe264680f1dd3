#include <stdio.h>
#include <string.h>
#include <p11enroll.h>

int main(void)
{
	p11e_csr_opts opts;
	p11e_key key;
	p11e_pin *pin = NULL;
	unsigned char *csr = NULL;
	size_t len = 0;
	int reused = 0;
	p11e_ctx *ctx = p11e_ctx_new();
	p11e_status st;

	memset(&opts, 0, sizeof(opts));
	opts.subject = "/O=Example/CN=client.example";
	st = p11e_module_load(ctx, NULL);
	if (st == P11E_OK)
		st = p11e_token_select(ctx, "demo");
	if (st == P11E_OK)
		st = p11e_pin_read(ctx, "env:USER_PIN", P11E_PIN_USER, &pin);
	if (st == P11E_OK)
		st = p11e_login(ctx, P11E_PIN_USER, pin);
	if (st == P11E_OK)
		st = p11e_enroll(ctx, "ec:P-256", "client", NULL, 0, &opts, &key, &reused,
		                 &csr, &len);
	if (st == P11E_OK) {
		fwrite(csr, 1, len, stdout);
		fprintf(stderr, "%s key %s\n", reused ? "reused" : "new", key.uri);
		p11e_key_clear(&key);
	} else {
		fprintf(stderr, "enrol: %s\n", p11e_error_message(ctx));
	}
	p11e_free(csr);
	p11e_pin_free(pin);
	p11e_ctx_free(ctx);
	return (int)st;
}
