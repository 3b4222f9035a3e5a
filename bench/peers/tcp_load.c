/*
 * Load client of the TCP benchmarks (tcp-echo-pipelined, tcp-echo-rr, tcp-idle,
 * attack-slowloris): not a peer.
 *
 *   tcp_load MODE PORT CONNS LINES [TIMEOUT_SECONDS [SLOW]]
 *
 * Built at bench time with `cc -O2` (bench/peers/_tcp_load.py caches the binary in bench/.build/)
 * so that the load generator is not the bottleneck: one process, one thread, non-blocking
 * sockets and epoll, no per-line work beyond memcmp.
 *
 * Every connection goes to 127.0.0.1:PORT (TCP_NODELAY) and sends LINES distinct lines of 32
 * bytes, LF included ("c00007 l000000042 abcdefghijklm\n"); every byte that comes back is
 * compared with what was sent, and any difference, an early close or the timeout ends the run
 * with a message on stderr and exit status 1.
 *
 * MODE
 *   pipelined  CONNS connections each write their LINES lines as fast as the socket takes them
 *              while reading the echo back.
 *   rr         request/response: each connection keeps exactly one line in flight, sending the
 *              next one when the echo of the previous one is complete.
 *   idle       the server holds CONNS idle connections. One warm-up connection first echoes one
 *              line; the client prints "warm" and waits for a line on stdin. Then it opens CONNS
 *              more (at most 32 not yet echoed at a time, so that the server's accept queue never
 *              overflows), each echoing one line; it prints "ready" and waits for a line or end
 *              of file on stdin, closes everything and exits. LINES is ignored.
 *   slowloris  rr on CONNS connections while SLOW more connections (default 1,000) each send
 *              one byte ("x", never a line end) every second. The SLOW connections are opened
 *              first (at most 32 handshakes in flight), each sending its first byte once
 *              connected; the client prints "slow-open" and waits for a line on stdin (the
 *              server peer sends it once it has accepted them all), then runs the rr exchange
 *              while the trickle goes on. A slow connection the server closes is counted and
 *              opened again (an attacker would). With SLOW = 0 this is rr without stdin.
 *
 * pipelined and rr time from every connection being established to the last echoed byte and
 * print one JSON line: {"seconds": S, "lines": TOTAL, "lines_per_s": R, "connections": CONNS,
 * "p50_ms": .., "p99_ms": .., "max_ms": ..} (the latencies, from a line's first byte sent to its
 * echo complete, in rr and slowloris modes only; slowloris adds "slow", "slow_cut" and
 * "slow_bytes"). idle prints {"seconds": S, "connections": CONNS} (S: opening and echoing the CONNS).
 * The soft RLIMIT_NOFILE is raised to the hard limit first.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define LINE_BYTES 32
#define IO_BYTES 65536
#define IDLE_WINDOW 32
#define STDIN_TAG ((unsigned long)-1)

enum mode { PIPELINED, RR, IDLE, SLOWLORIS };

struct conn {
    int fd;
    int connected;
    int done;
    int want_out; /* EPOLLOUT is registered */
    int slow; /* a slowloris connection (slowloris mode) */
    double due; /* slow: when its next byte is due */
    double t_sent; /* rr, slowloris: when the line in flight started to be sent */
    unsigned char *out; /* every byte this connection sends (lines * 32) */
    size_t total;
    size_t sent;
    size_t received;
};

static enum mode mode;
static struct sockaddr_in server;
static int epfd;
static double deadline;
static struct conn *conns;
static long nconns;  /* connections in conns[] (idle: CONNS + the warm-up one) */
static long opened;  /* connections started so far */
static long finished; /* connections done (all echoed) */
static long idle_target; /* idle: open connections up to this index, one echoed line each */
static double *latencies; /* rr, slowloris: seconds per echoed line */
static long nlatencies;
static struct conn *slows; /* slowloris: the trickling connections */
static long nslow;
static long slow_opened, slow_connected_count, slow_cursor, slow_cut, slow_bytes;

static double now(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void die(const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    fputs("tcp_load: ", stderr);
    vfprintf(stderr, fmt, ap);
    fprintf(stderr, " (%ld of %ld connections done)\n", finished, nconns);
    va_end(ap);
    exit(1);
}

static void fill_lines(struct conn *c, long index, long lines) {
    c->total = (size_t)lines * LINE_BYTES;
    c->out = malloc(c->total + 1);
    if (c->out == NULL) die("out of memory");
    for (long i = 0; i < lines; i++) {
        /* 1+5 +1 +1+9 +1 +13 +1 = 32 bytes */
        snprintf((char *)c->out + i * LINE_BYTES, LINE_BYTES + 1, "c%05ld l%09ld abcdefghijklm\n",
                 index % 100000, i % 1000000000);
    }
}

static void watch(struct conn *c, int op, int out) {
    struct epoll_event ev;
    ev.events = EPOLLIN | (out ? EPOLLOUT : 0);
    ev.data.ptr = c;
    if (epoll_ctl(epfd, op, c->fd, &ev) < 0) die("epoll_ctl: %s", strerror(errno));
    c->want_out = out;
}

static void start_connection(struct conn *c) {
    c->fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (c->fd < 0) die("socket: %s (raise the open files limit?)", strerror(errno));
    int one = 1;
    setsockopt(c->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    if (connect(c->fd, (struct sockaddr *)&server, sizeof server) < 0 && errno != EINPROGRESS)
        die("connect: %s", strerror(errno));
    watch(c, EPOLL_CTL_ADD, 1); /* writable: the connection is established (or failed) */
    opened++;
}

/* How many bytes this connection may have sent by now. */
static size_t send_limit(const struct conn *c) {
    if (mode == PIPELINED) return c->total;
    size_t next = c->received + LINE_BYTES; /* rr and idle: one line in flight */
    return next < c->total ? next : c->total;
}

static void pump_out(struct conn *c) {
    size_t limit = send_limit(c);
    if (latencies != NULL && c->sent < limit && c->sent == c->received) c->t_sent = now();
    while (c->sent < limit) {
        size_t len = limit - c->sent;
        if (len > IO_BYTES) len = IO_BYTES;
        ssize_t n = send(c->fd, c->out + c->sent, len, MSG_NOSIGNAL);
        if (n < 0) {
            if (errno == EAGAIN || errno == EWOULDBLOCK) break;
            if (errno == EINTR) continue;
            die("send: %s", strerror(errno));
        }
        c->sent += (size_t)n;
    }
    int out = c->sent < limit;
    if (out != c->want_out) watch(c, EPOLL_CTL_MOD, out);
}

static void pump_in(struct conn *c) {
    static unsigned char buf[IO_BYTES];
    for (;;) {
        ssize_t n = recv(c->fd, buf, sizeof buf, 0);
        if (n < 0) {
            if (errno == EAGAIN || errno == EWOULDBLOCK) return;
            if (errno == EINTR) continue;
            die("recv: %s", strerror(errno));
        }
        if (n == 0) die("the server closed a connection after %zu of %zu bytes", c->received, c->total);
        if (c->received + (size_t)n > c->sent)
            die("received %zu bytes more than were sent", c->received + (size_t)n - c->sent);
        if (memcmp(buf, c->out + c->received, (size_t)n) != 0) {
            size_t at = 0;
            while (buf[at] == c->out[c->received + at]) at++;
            int shown = (size_t)n - at < 16 ? (int)((size_t)n - at) : 16;
            die("echo differs at byte %zu of a connection: expected \"%.*s\", got \"%.*s\"",
                c->received + at, shown, (const char *)c->out + c->received + at, shown,
                (const char *)buf + at);
        }
        c->received += (size_t)n;
        if (latencies != NULL && c->received == c->sent && c->received % LINE_BYTES == 0)
            latencies[nlatencies++] = now() - c->t_sent;
        if (c->received == c->total) {
            c->done = 1;
            finished++;
            if (mode == IDLE && opened < idle_target) start_connection(&conns[opened]);
            return;
        }
        if (mode != PIPELINED) pump_out(c);
        /* Level-triggered epoll reports what is left: a short read saves the EAGAIN recv. */
        if ((size_t)n < sizeof buf) return;
    }
}

/* slowloris: open the next slow connection, if any is left. */
static void open_slow(void) {
    if (slow_opened < nslow) {
        struct conn *c = &slows[slow_opened++];
        c->slow = 1;
        start_connection(c);
    }
}

/* slowloris: a slow connection is established: its first byte now, the next one in 1 s. */
static void slow_connected(struct conn *c) {
    if (send(c->fd, "x", 1, MSG_NOSIGNAL) == 1) slow_bytes++;
    if (c->due == 0) {
        slow_connected_count++;
        /* evenly spread phases: the due times stay in slows[] order (see slow_pump) */
        c->due = now() + 1.0 + (double)(c - slows) / (double)nslow;
        open_slow();
    }
}

/* slowloris: the server closed (or reset) a slow connection: count it and open it again. */
static void slow_event(struct conn *c) {
    char byte;
    ssize_t n = recv(c->fd, &byte, 1, 0);
    if (n > 0) die("the server sent data on a slowloris connection");
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)) return;
    close(c->fd);
    slow_cut++;
    c->connected = 0;
    start_connection(c); /* keeps its slot and its phase */
}

/* slowloris: send every byte that is due; ms until the next one (at most 1000). */
static int slow_pump(void) {
    if (slow_connected_count < nslow) return 1000; /* still opening: no schedule yet */
    double t = now();
    for (long k = 0; k < nslow; k++) {
        struct conn *c = &slows[slow_cursor];
        if (c->due > t) break;
        if (c->connected && send(c->fd, "x", 1, MSG_NOSIGNAL) == 1) slow_bytes++;
        c->due += 1.0;
        slow_cursor = (slow_cursor + 1) % nslow;
    }
    double wait = slows[slow_cursor].due - t;
    return wait <= 0 ? 0 : wait >= 1.0 ? 1000 : (int)(wait * 1000) + 1;
}

/* Run the loop until `stop()` says so; `on_stdin` handles a readable stdin (idle mode). */
static void run(int (*stop)(void), void (*on_connected)(struct conn *), int (*on_stdin)(void)) {
    struct epoll_event events[256];
    while (!stop()) {
        double left = deadline - now();
        if (left <= 0) die("timed out");
        int timeout = left > 1.0 ? 1000 : (int)(left * 1000) + 1;
        if (nslow > 0) {
            int due = slow_pump();
            if (due < timeout) timeout = due;
        }
        int ready = epoll_wait(epfd, events, 256, timeout);
        if (ready < 0) {
            if (errno == EINTR) continue;
            die("epoll_wait: %s", strerror(errno));
        }
        for (int i = 0; i < ready; i++) {
            if (events[i].data.u64 == STDIN_TAG) {
                if (on_stdin != NULL && on_stdin()) return;
                continue;
            }
            struct conn *c = events[i].data.ptr;
            if (c->done) {
                /* idle: an idle connection must stay quiet and open */
                char byte;
                ssize_t n = recv(c->fd, &byte, 1, MSG_PEEK);
                if (n == 0) die("the server closed an idle connection");
                if (n > 0) die("the server sent unasked-for data");
                continue;
            }
            if (!c->connected) {
                int err = 0;
                socklen_t len = sizeof err;
                getsockopt(c->fd, SOL_SOCKET, SO_ERROR, &err, &len);
                if (err != 0) die("connect: %s", strerror(err));
                if (!(events[i].events & (EPOLLOUT | EPOLLERR | EPOLLHUP))) continue;
                c->connected = 1;
                watch(c, EPOLL_CTL_MOD, 0);
                if (c->slow) slow_connected(c);
                else if (on_connected != NULL) on_connected(c);
                continue;
            }
            if (c->slow) {
                slow_event(c);
                continue;
            }
            if (events[i].events & (EPOLLIN | EPOLLERR | EPOLLHUP)) pump_in(c);
            if (!c->done && (events[i].events & EPOLLOUT)) pump_out(c);
        }
    }
}

static long connected_count;
static int all_connected(void) { return connected_count == nconns; }
static void count_connected(struct conn *c) {
    (void)c;
    connected_count++;
}
static int all_finished(void) { return finished == nconns; }
static int all_slow_connected(void) { return slow_connected_count == nslow; }

static int compare_doubles(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

/* The q-quantile of the recorded latencies, in ms (they are sorted first). */
static double latency_ms(double q) {
    if (nlatencies == 0) return 0;
    long at = (long)(q * (double)(nlatencies - 1) + 0.5);
    return latencies[at] * 1e3;
}

/* idle mode */
static void idle_connected(struct conn *c) { pump_out(c); }
static int idle_done(void) { return finished == idle_target; }
static int never(void) { return 0; }
static int read_stdin(void) {
    char buf[256];
    ssize_t n = read(0, buf, sizeof buf);
    if (n < 0 && (errno == EAGAIN || errno == EINTR)) return 0;
    return 1; /* a line (or several), end of file or an error: go on */
}

static void say(const char *word) {
    printf("%s\n", word);
    fflush(stdout);
}

int main(int argc, char **argv) {
    if (argc < 5 || argc > 7) {
        fprintf(stderr, "usage: %s pipelined|rr|idle|slowloris PORT CONNS LINES [TIMEOUT_SECONDS [SLOW]]\n",
                argv[0]);
        return 2;
    }
    if (strcmp(argv[1], "pipelined") == 0) mode = PIPELINED;
    else if (strcmp(argv[1], "rr") == 0) mode = RR;
    else if (strcmp(argv[1], "idle") == 0) mode = IDLE;
    else if (strcmp(argv[1], "slowloris") == 0) mode = SLOWLORIS;
    else {
        fprintf(stderr, "tcp_load: unknown mode %s\n", argv[1]);
        return 2;
    }
    long port = strtol(argv[2], NULL, 10);
    long count = strtol(argv[3], NULL, 10);
    long lines = mode == IDLE ? 1 : strtol(argv[4], NULL, 10);
    double timeout = argc >= 6 ? strtod(argv[5], NULL) : 240.0;
    nslow = mode != SLOWLORIS ? 0 : argc == 7 ? strtol(argv[6], NULL, 10) : 1000;
    if (port <= 0 || port > 65535 || count <= 0 || lines <= 0 || timeout <= 0 || nslow < 0) {
        fprintf(stderr, "tcp_load: PORT, CONNS, LINES and TIMEOUT must be positive, SLOW not negative\n");
        return 2;
    }
    signal(SIGPIPE, SIG_IGN);
    struct rlimit rl;
    if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
        rl.rlim_cur = rl.rlim_max;
        setrlimit(RLIMIT_NOFILE, &rl);
    }
    memset(&server, 0, sizeof server);
    server.sin_family = AF_INET;
    server.sin_port = htons((unsigned short)port);
    server.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    epfd = epoll_create1(EPOLL_CLOEXEC);
    if (epfd < 0) die("epoll_create1: %s", strerror(errno));
    deadline = now() + timeout;

    nconns = mode == IDLE ? count + 1 : count;
    conns = calloc((size_t)nconns, sizeof *conns);
    if (conns == NULL) die("out of memory");
    for (long i = 0; i < nconns; i++) fill_lines(&conns[i], i, lines);

    if (mode == RR || mode == SLOWLORIS) {
        latencies = malloc(sizeof *latencies * (size_t)(count * lines));
        if (latencies == NULL) die("out of memory");
    }
    if (nslow > 0) {
        slows = calloc((size_t)nslow, sizeof *slows);
        if (slows == NULL) die("out of memory");
        struct epoll_event ev = {.events = EPOLLIN, .data.u64 = STDIN_TAG};
        fcntl(0, F_SETFL, fcntl(0, F_GETFL) | O_NONBLOCK);
        if (epoll_ctl(epfd, EPOLL_CTL_ADD, 0, &ev) < 0) die("epoll_ctl(stdin): %s", strerror(errno));
        for (long i = 0; i < IDLE_WINDOW; i++) open_slow();
        run(all_slow_connected, NULL, NULL);
        say("slow-open");
        run(never, NULL, read_stdin);
        epoll_ctl(epfd, EPOLL_CTL_DEL, 0, NULL);
    }

    if (mode != IDLE) {
        for (long i = 0; i < nconns; i++) start_connection(&conns[i]);
        run(all_connected, count_connected, NULL);
        double start = now();
        for (long i = 0; i < nconns; i++) pump_out(&conns[i]);
        run(all_finished, NULL, NULL);
        double seconds = now() - start;
        for (long i = 0; i < nconns; i++) close(conns[i].fd);
        for (long i = 0; i < nslow; i++) close(slows[i].fd);
        long total = count * lines;
        printf("{\"seconds\": %.6f, \"lines\": %ld, \"lines_per_s\": %.1f, \"connections\": %ld",
               seconds, total, (double)total / seconds, count);
        if (latencies != NULL) {
            qsort(latencies, (size_t)nlatencies, sizeof *latencies, compare_doubles);
            printf(", \"p50_ms\": %.3f, \"p99_ms\": %.3f, \"max_ms\": %.3f", latency_ms(0.5),
                   latency_ms(0.99), latency_ms(1.0));
        }
        if (mode == SLOWLORIS)
            printf(", \"slow\": %ld, \"slow_cut\": %ld, \"slow_bytes\": %ld", nslow, slow_cut,
                   slow_bytes);
        printf("}\n");
        fprintf(stderr, "tcp_load %s: %ld connections x %ld lines: %.3f s, %.0f lines/s\n", argv[1],
                count, lines, seconds, (double)total / seconds);
        return 0;
    }

    struct epoll_event ev = {.events = EPOLLIN, .data.u64 = STDIN_TAG};
    fcntl(0, F_SETFL, fcntl(0, F_GETFL) | O_NONBLOCK);
    if (epoll_ctl(epfd, EPOLL_CTL_ADD, 0, &ev) < 0) die("epoll_ctl(stdin): %s", strerror(errno));

    idle_target = 1; /* the warm-up connection */
    start_connection(&conns[0]);
    run(idle_done, idle_connected, NULL);
    say("warm");
    run(never, NULL, read_stdin);

    double start = now();
    idle_target = nconns;
    for (long i = 0; i < IDLE_WINDOW && opened < idle_target; i++) start_connection(&conns[opened]);
    run(idle_done, idle_connected, NULL);
    double seconds = now() - start;
    say("ready");
    run(never, NULL, read_stdin);
    for (long i = 0; i < nconns; i++) close(conns[i].fd);
    printf("{\"seconds\": %.6f, \"connections\": %ld}\n", seconds, count);
    return 0;
}
