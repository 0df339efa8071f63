/*
 * fuzz_http.h: plumbing shared by the harnesses that drive a real
 * libmicrohttpd daemon.  Include it after src/http/server.c: it uses that
 * file's static callbacks.
 *
 * The daemon runs without threads or a listening socket; each input is
 * written into one end of a socket pair whose other end is handed to the
 * daemon, which is then run by hand until it hangs up or MAX_ROUNDS pass.
 */
#ifndef FUZZ_HTTP_H
#define FUZZ_HTTP_H

#include <fcntl.h>
#include <sys/socket.h>

#define MAX_ROUNDS 64

static struct MHD_Daemon *fuzz_daemon;

/* Starts the daemon with server.c's callbacks and `handler` behind them. */
static void fuzz_daemon_start(http_handler handler)
{
    log_set_level(LOG_ERROR);
    log_set_access(false);
    app_handler = handler;
    max_body = 64 * 1024;
    max_header = 8 * 1024;
    fuzz_daemon = MHD_start_daemon(
        MHD_USE_NO_LISTEN_SOCKET, 0, NULL, NULL, on_request, NULL,
        MHD_OPTION_CONNECTION_MEMORY_LIMIT, (size_t)(32 * 1024),
        MHD_OPTION_NOTIFY_CONNECTION, on_connection, NULL,
        MHD_OPTION_URI_LOG_CALLBACK, on_uri, NULL, MHD_OPTION_NOTIFY_COMPLETED,
        on_completed, NULL, MHD_OPTION_END);
    if (fuzz_daemon == NULL)
        abort();
}

/* Writes the request, running the daemon, until it closes its end. */
static void pump(int fd, const char *data, size_t len)
{
    size_t sent = 0;
    char sink[4096];

    for (int round = 0; round < MAX_ROUNDS; round++) {
        if (sent < len) {
            ssize_t n = write(fd, data + sent, len - sent);
            if (n > 0)
                sent += (size_t)n;
        }
        MHD_run(fuzz_daemon);
        ssize_t got;
        while ((got = read(fd, sink, sizeof(sink))) > 0)
            ;
        if (got == 0)
            return;
    }
}

/* Sends data[0..len) as a client would, then hangs up. */
static void fuzz_exchange(const char *data, size_t len)
{
    int fds[2];
    struct sockaddr_in peer = {.sin_family = AF_INET};

    if (socketpair(AF_UNIX, SOCK_STREAM, 0, fds) != 0)
        abort();
    fcntl(fds[0], F_SETFL, O_NONBLOCK);
    fcntl(fds[1], F_SETFL, O_NONBLOCK);
    peer.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (MHD_add_connection(fuzz_daemon, fds[1], (struct sockaddr *)&peer,
                           sizeof(peer)) != MHD_YES)
        abort();
    pump(fds[0], data, len);
    close(fds[0]);
    /* Let the daemon notice the closed peer and release the connection. */
    MHD_run(fuzz_daemon);
    MHD_run(fuzz_daemon);
}

#endif
