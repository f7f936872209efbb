/*
 * rss_floor: the resident set any program pays for the libraries
 * jvb-lifecycled links, before it does anything of its own.  It links
 * the same libraries (each one used, so --as-needed keeps them), does
 * what every one of them does on first use (libcurl's global init, which
 * initialises OpenSSL; one HMAC-SHA256, which loads OpenSSL's default
 * provider; an event base; an XML parser; a JSON value; an INI parse),
 * then waits for SIGTERM.  bench/run reads its /proc figures next to the
 * idle daemon's, so that results.md can tell the daemon's own memory
 * from the libraries'.
 */
#include <curl/curl.h>
#include <event2/event.h>
#include <expat.h>
#include <ini.h>
#include <jansson.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <strophe.h>
#include <unistd.h>

static int
rss_floor_ini(void *arg, const char *section, const char *name,
    const char *value)
{
	return 1;
}

int
main(void)
{
	unsigned char mac[EVP_MAX_MD_SIZE];
	unsigned int maclen = 0;
	struct event_base *base;
	XML_Parser xp;
	json_t *j;
	sigset_t set;
	int sig;

	sigemptyset(&set);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	sigprocmask(SIG_BLOCK, &set, NULL);

	if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK)
		return 1;
	if (HMAC(EVP_sha256(), "k", 1, (const unsigned char *)"d", 1, mac,
	    &maclen) == NULL)
		return 1;
	if ((base = event_base_new()) == NULL)
		return 1;
	if ((xp = XML_ParserCreate(NULL)) == NULL)
		return 1;
	j = json_pack("{s:i}", "n", (int)maclen);
	ini_parse_string("[a]\nb = c\n", rss_floor_ini, NULL);
	/* libstrophe is linked for the XMPP link; touch it as little as the
	 * idle daemon does (it initialises it only with [xmpp]) */
	(void)xmpp_version_check(LIBXMPP_VERSION_MAJOR,
	    LIBXMPP_VERSION_MINOR);
	printf("ready\n");
	fflush(stdout);
	sigwait(&set, &sig);

	json_decref(j);
	XML_ParserFree(xp);
	event_base_free(base);
	curl_global_cleanup();
	return 0;
}
