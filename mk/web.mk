# The web console (services/gateway/web/) and its browser tests (tests/browser/).
# Included by the Makefile: `include mk/web.mk`.
#
#   make browser-deps  Debian's Chromium and CJK fonts for the browser tests
#                      (Playwright for Python comes with the test extra; it
#                      drives /usr/bin/chromium and never downloads a browser)
#   make test-browser  only the browser tests (screenshots: var/artefacts/screenshots/)
#   make web-vendor    rebuild the vendored ECharts / signature_pad from npm
#   make web-check     fail if the committed vendored files differ from a fresh build

WEB_DIR      := services/gateway/web
APT_BROWSER  := chromium fonts-noto-cjk

.PHONY: browser-deps test-browser web-vendor web-check

browser-deps:
	@if [ -x /usr/bin/chromium ] && fc-list :lang=zh | grep -q .; then :; else \
	  echo "installing $(APT_BROWSER) (apt-get)"; \
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive \
	    apt-get install -y -qq $(APT_BROWSER); \
	fi

test-browser: preflight browser-deps
	$(PY) -m pytest tests/browser $(ARGS)

web-vendor:
	cd $(WEB_DIR) && npm ci --no-audit --no-fund && npm run build

web-check:
	cd $(WEB_DIR) && npm ci --no-audit --no-fund && npm run check
