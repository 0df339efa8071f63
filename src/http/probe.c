/* http/probe: one HTTP GET to a local server, for health checks. */
#include "http/probe.h"

#include <errno.h>
#include <netdb.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

/* Enough for "HTTP/1.1 200 OK\r\n" and a long reason phrase. */
#define STATUS_LINE_MAX 256

static long long now_ms(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/*
 * Waits until fd is ready for `events` or the deadline passes: 1 ready,
 * 0 deadline, -1 error.
 */
static int wait_for(int fd, short events, long long deadline)
{
    struct pollfd p = {.fd = fd, .events = events};

    for (;;) {
        long long left = deadline - now_ms();
        if (left <= 0)
            return 0;
        int n = poll(&p, 1, (int)left);
        if (n > 0)
            return 1;
        if (n == 0)
            return 0;
        if (errno != EINTR)
            return -1;
    }
}

/* A non-blocking socket connected to host:port, or -1 with *result set. */
static int connect_to(const char *host, int port, long long deadline,
                      enum probe_result *result)
{
    struct addrinfo hints = {.ai_socktype = SOCK_STREAM,
                             .ai_flags = AI_NUMERICHOST | AI_NUMERICSERV};
    struct addrinfo *ai;
    char service[16];

    snprintf(service, sizeof(service), "%d", port);
    if (getaddrinfo(host, service, &hints, &ai) != 0) {
        *result = PROBE_BAD_ADDRESS;
        return -1;
    }
    *result = PROBE_CONNECT;
    int fd =
        socket(ai->ai_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0) {
        freeaddrinfo(ai);
        return -1;
    }
    int rc = connect(fd, ai->ai_addr, ai->ai_addrlen);
    freeaddrinfo(ai);
    if (rc == 0)
        return fd;
    if (errno != EINPROGRESS) {
        close(fd);
        return -1;
    }

    /* The connection completes (or fails) when the socket is writable. */
    int ready = wait_for(fd, POLLOUT, deadline);
    int soerr = 0;
    socklen_t len = sizeof(soerr);
    if (ready == 0)
        *result = PROBE_TIMEOUT;
    if (ready != 1 || getsockopt(fd, SOL_SOCKET, SO_ERROR, &soerr, &len) != 0 ||
        soerr != 0) {
        close(fd);
        return -1;
    }
    return fd;
}

static enum probe_result send_all(int fd, const char *data, size_t len,
                                  long long deadline)
{
    while (len > 0) {
        ssize_t n = send(fd, data, len, MSG_NOSIGNAL);
        if (n > 0) {
            data += n;
            len -= (size_t)n;
            continue;
        }
        if (n < 0 && errno != EAGAIN && errno != EINTR)
            return PROBE_CONNECT;
        int ready = wait_for(fd, POLLOUT, deadline);
        if (ready <= 0)
            return ready == 0 ? PROBE_TIMEOUT : PROBE_CONNECT;
    }
    return PROBE_OK;
}

/* Reads until the first CRLF into line (NUL-terminated, CRLF dropped). */
static enum probe_result read_status_line(int fd, char *line, size_t size,
                                          long long deadline)
{
    size_t used = 0;

    for (;;) {
        line[used] = '\0';
        char *crlf = strstr(line, "\r\n");
        if (crlf != NULL) {
            *crlf = '\0';
            return PROBE_OK;
        }
        if (used + 1 >= size)
            return PROBE_BAD_RESPONSE;

        ssize_t n = recv(fd, line + used, size - 1 - used, 0);
        if (n > 0) {
            used += (size_t)n;
            continue;
        }
        if (n == 0)
            return PROBE_BAD_RESPONSE; /* closed before a full line */
        if (errno != EAGAIN && errno != EINTR)
            return PROBE_CONNECT;
        int ready = wait_for(fd, POLLIN, deadline);
        if (ready <= 0)
            return ready == 0 ? PROBE_TIMEOUT : PROBE_CONNECT;
    }
}

/* "HTTP/1.x NNN ..." gives NNN; anything else gives 0. */
static int parse_status(const char *line)
{
    if (strncmp(line, "HTTP/1.", 7) != 0 || line[7] < '0' || line[7] > '9' ||
        line[8] != ' ')
        return 0;
    const char *code = line + 9;
    for (int i = 0; i < 3; i++) {
        if (code[i] < '0' || code[i] > '9')
            return 0;
    }
    if (code[3] != '\0' && code[3] != ' ')
        return 0;
    return (code[0] - '0') * 100 + (code[1] - '0') * 10 + (code[2] - '0');
}

enum probe_result probe_get(const char *host, int port, const char *path,
                            int timeout_ms, int *status)
{
    long long deadline = now_ms() + timeout_ms;
    char request[512], line[STATUS_LINE_MAX];
    enum probe_result result;

    *status = 0;
    int n = snprintf(request, sizeof(request),
                     "GET %s HTTP/1.1\r\nHost: localhost\r\n"
                     "User-Agent: thoughts-backend-healthcheck\r\n"
                     "Connection: close\r\n\r\n",
                     path);
    if (n < 0 || (size_t)n >= sizeof(request))
        return PROBE_BAD_ADDRESS;

    int fd = connect_to(host, port, deadline, &result);
    if (fd < 0)
        return result;
    result = send_all(fd, request, (size_t)n, deadline);
    if (result == PROBE_OK)
        result = read_status_line(fd, line, sizeof(line), deadline);
    close(fd);
    if (result != PROBE_OK)
        return result;

    *status = parse_status(line);
    if (*status == 0)
        return PROBE_BAD_RESPONSE;
    return *status == 200 ? PROBE_OK : PROBE_STATUS;
}

const char *probe_result_text(enum probe_result result)
{
    switch (result) {
    case PROBE_OK:
        return "healthy";
    case PROBE_STATUS:
        return "unexpected status";
    case PROBE_CONNECT:
        return "cannot connect";
    case PROBE_TIMEOUT:
        return "no answer in time";
    case PROBE_BAD_RESPONSE:
        return "not an HTTP answer";
    case PROBE_BAD_ADDRESS:
        return "not a numeric address";
    }
    return "unknown";
}

const char *probe_local_address(const char *bind_address)
{
    if (strcmp(bind_address, "0.0.0.0") == 0 || bind_address[0] == '\0')
        return "127.0.0.1";
    if (strcmp(bind_address, "::") == 0)
        return "::1";
    return bind_address;
}
