/*
 * http/probe: one HTTP GET to a local server, for health checks.
 *
 * `thoughts-backend healthcheck` uses it so that a container image needs
 * no curl: it connects to the server's own port, sends one request with
 * "Connection: close" and reads only the status line.  Every step shares
 * one deadline, so a server that accepts but never answers cannot hold
 * the caller for longer than timeout_ms.  Nothing is allocated.
 */
#ifndef HTTP_PROBE_H
#define HTTP_PROBE_H

enum probe_result {
    PROBE_OK,           /* the status line said 200 */
    PROBE_STATUS,       /* a valid answer with another status */
    PROBE_CONNECT,      /* no connection (refused, unreachable) */
    PROBE_TIMEOUT,      /* the deadline passed before the status line */
    PROBE_BAD_RESPONSE, /* the peer sent something that is not HTTP */
    PROBE_BAD_ADDRESS   /* host is no IP literal, or path is too long */
};

/*
 * GETs `path` from host:port, where host is an IP literal ("127.0.0.1",
 * "::1").  Sets *status to the status code when a status line was read,
 * to 0 otherwise.
 */
enum probe_result probe_get(const char *host, int port, const char *path,
                            int timeout_ms, int *status);

/* A short description of a result, for messages. */
const char *probe_result_text(enum probe_result result);

/*
 * The address to probe a server that listens on bind_address: the
 * loopback address of the same family for a wildcard ("0.0.0.0", "::"),
 * otherwise bind_address itself.
 */
const char *probe_local_address(const char *bind_address);

#endif
