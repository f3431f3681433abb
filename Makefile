# make install [PREFIX=/usr/local] [DESTDIR=...] [BINARY=...]: cloudabi-run, its binfmt
# link, cloudabi-run(1) where man finds it and the service files, through
# scripts/install (docs/install.md). For GNU make and BSD make. On FreeBSD
# the ports are the supported way; kmod/Makefile builds and installs the
# module.

PREFIX?=	/usr/local
DESTDIR?=

all:
	cargo build --release --locked -p cloudabi-run

# BINARY=FILE installs that cloudabi-run instead of building one.
install:
	scripts/install --prefix "$(PREFIX)" --destdir "$(DESTDIR)" $${BINARY:+--binary "$$BINARY"}

uninstall:
	scripts/install --uninstall --prefix "$(PREFIX)" --destdir "$(DESTDIR)"

test:
	scripts/test

.PHONY: all install uninstall test
