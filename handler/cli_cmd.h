/*
 * The operator subcommands (cli_*.c) and what they share (cli.c).  Each
 * *_main takes argv with argv[0] the command name and returns the exit
 * status: 0 fine, 1 the answer is "no" or it failed, 2 usage.
 */
#ifndef JL_CLI_CMD_H
#define JL_CLI_CMD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct config;

#define CLI_DEFAULT_CONFIG	"/etc/jvb-lifecycled/jvb-lifecycled.conf"

int cli_status_main(int argc, char *argv[]);
int cli_probe_main(int argc, char *argv[]);
int cli_drain_main(int argc, char *argv[]);
int cli_audit_main(int argc, char *argv[]);

/*
 * Load path (NULL: the default file) without reading secrets.  0: loaded;
 * -ENOENT: path was NULL and the default file does not exist (cfg
 * untouched); -EINVAL: errors, printed to stderr.
 */
int cli_load_config(const char *path, struct config *cfg);
/* Printable ASCII only, other bytes as '?', cut to len with "...". */
void cli_sanitize(char *dst, size_t len, const char *src);
/* "host:port", "[v6]:port" -> host, port.  0 or -EINVAL. */
int cli_parse_hostport(const char *s, char *host, size_t hostlen,
    unsigned *ret_port);
/* "1h02m", "3m05s", "12s", "0.4s" */
const char *cli_duration(int64_t ms, char *buf, size_t len);
/* An address as bridge_valid_ip() takes it; a name is looked up. */
int cli_host_to_ip(const char *host, char *ip, size_t iplen);
/* "i-" and 8 or 17 hex digits. */
bool cli_is_instance_id(const char *s);

#endif
