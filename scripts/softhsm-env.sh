# Sourced: point SoftHSMv2 at a token directory of our own, never the
# system one.  Usage: . scripts/softhsm-env.sh DIR
softhsm_env() {
	mkdir -p "$1/tokens"
	_d=$(cd "$1" && pwd)
	cat > "$_d/softhsm2.conf" <<CONF
directories.tokendir = $_d/tokens
objectstore.backend = file
log.level = ERROR
slots.removable = false
CONF
	SOFTHSM2_CONF="$_d/softhsm2.conf"
	export SOFTHSM2_CONF
}
softhsm_env "$1"
