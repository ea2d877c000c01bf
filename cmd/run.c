/*
 * saasctl run: the cron wrapper. Runs a command (execvp, no shell), passes
 * its stdout and stderr through unchanged while a bounded ring keeps the
 * merged tail, and reports to Healthchecks: a start ping sent on a thread
 * of its own, so the command never waits for it, then the exit code with
 * the tail of the output.
 *
 * The command gets a process group of its own, so that forwarded signals
 * and the timeout reach its children too.
 */
#define _GNU_SOURCE /* pipe2, posix_spawn_file_actions_addtcsetpgrp_np */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "hc-common.h"
#include "../src/clock.h"
#include "../src/log.h"

/* How long the finish waits for a start ping still on its way. */
#define RUN_START_GRACE_MS 2000L
/* After the command exits, how long to wait for its output pipes to
 * close: a daemon it left behind may hold them open forever. */
#define RUN_DRAIN_IDLE_MS 200L

struct run_opts {
	const char *check;
	long timeout_ms;	/* 0: none */
	long kill_after_ms;
	const char *lock;
	int lock_log_only;	/* --if-locked log */
	int no_start_ping;
	int quiet;		/* the command's output only goes to the ping */
	char **argv;
};

struct run_state {
	pid_t pid;		/* the command; its process group has this id */
	int status;		/* from waitpid */
	int reaped;
	int timed_out;
	int killed;		/* SIGKILL sent after --kill-after */
	int forwarded;		/* last signal forwarded, or 0 */
	int exec_errno;		/* the command could not be started */
	long started_ms;
	long ended_ms;
	struct hc_tail tail;
	int pass_out, pass_err;	/* still passing stdout / stderr through */
	/* The tail starts at the default body limit and grows to the one
	 * the server announces in its answer to the start ping. */
	struct hc *hc;
	struct hc_async *start;
	int limit_known;
};

static int run_sigpipe[2] = { -1, -1 };

static void run_on_signal(int sig)
{
	unsigned char b = (unsigned char)sig;
	int saved = errno;

	/* Non-blocking: a full pipe already holds a wake-up. */
	if (write(run_sigpipe[1], &b, 1) < 0) {
		/* nothing to do */
	}
	errno = saved;
}

static void run_warn(const struct cmd_ctx *ctx, const char *msg)
{
	/* Monitoring that silently stopped is worse than noise: this one
	 * shows even with --quiet. */
	fprintf(stderr, "%ssaasctl: run: warning:%s %s\n",
		ctx->color_err ? "\033[33m" : "",
		ctx->color_err ? "\033[0m" : "", msg);
}

/* Write all of buf to fd; 0, or -1 when the reader went away. */
static int write_all(int fd, const char *buf, size_t len)
{
	while (len) {
		ssize_t n = write(fd, buf, len);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && errno == EAGAIN) {
			struct pollfd pfd = { .fd = fd, .events = POLLOUT };

			poll(&pfd, 1, -1);
			continue;
		}
		if (n <= 0)
			return -1;
		buf += n;
		len -= (size_t)n;
	}
	return 0;
}

/*
 * Is argv[*i] the option name ("--lock FILE" or "--lock=FILE")? Its value
 * goes to *v (NULL when missing).
 */
static int opt_value(int argc, char **argv, int *i, const char *name,
		     const char **v)
{
	const char *a = argv[*i];
	size_t n = strlen(name);

	if (strncmp(a, name, n))
		return 0;
	if (a[n] == '=') {
		*v = a + n + 1;
		return 1;
	}
	if (a[n])
		return 0;
	*v = *i + 1 < argc ? argv[++*i] : NULL;
	return 1;
}

static int parse_args(struct cmd_ctx *ctx, int argc, char **argv,
		      struct run_opts *o)
{
	int i;

	o->kill_after_ms = 10000;
	for (i = 1; i < argc; i++) {
		const char *a = argv[i];
		const char *v = NULL;

		if (!strcmp(a, "--")) {
			i++;
			break;
		}
		if (a[0] != '-')
			break;
		if (opt_value(argc, argv, &i, "--check", &v)) {
			if (!v)
				goto missing;
			o->check = v;
		} else if (opt_value(argc, argv, &i, "--timeout", &v)) {
			if (!v)
				goto missing;
			if (hc_duration_parse(v, &o->timeout_ms) < 0 ||
			    !o->timeout_ms)
				return cmd_usage_error(ctx, "--timeout '%s' is not a duration like 30s, 15m or 2h",
						       v);
		} else if (opt_value(argc, argv, &i, "--kill-after", &v)) {
			if (!v)
				goto missing;
			if (hc_duration_parse(v, &o->kill_after_ms) < 0)
				return cmd_usage_error(ctx, "--kill-after '%s' is not a duration like 10s or 1m",
						       v);
		} else if (opt_value(argc, argv, &i, "--lock", &v)) {
			if (!v)
				goto missing;
			o->lock = v;
		} else if (opt_value(argc, argv, &i, "--if-locked", &v)) {
			if (!v)
				goto missing;
			if (!strcmp(v, "log"))
				o->lock_log_only = 1;
			else if (strcmp(v, "fail"))
				return cmd_usage_error(ctx, "--if-locked '%s' is not fail or log",
						       v);
		} else if (!strcmp(a, "--no-start-ping")) {
			o->no_start_ping = 1;
		} else {
			return cmd_usage_error(ctx, "unknown option '%s'", a);
		}
		continue;
missing:
		return cmd_usage_error(ctx, "option '%s' needs a value", a);
	}
	if (i >= argc)
		return cmd_usage_error(ctx, "missing the command to run");
	o->argv = argv + i;
	o->quiet = ctx->quiet;
	return 0;
}

static const char *signal_name(int sig)
{
	static char buf[16];

	switch (sig) {
	case SIGHUP: return "SIGHUP";
	case SIGINT: return "SIGINT";
	case SIGQUIT: return "SIGQUIT";
	case SIGILL: return "SIGILL";
	case SIGABRT: return "SIGABRT";
	case SIGBUS: return "SIGBUS";
	case SIGFPE: return "SIGFPE";
	case SIGKILL: return "SIGKILL";
	case SIGSEGV: return "SIGSEGV";
	case SIGPIPE: return "SIGPIPE";
	case SIGALRM: return "SIGALRM";
	case SIGTERM: return "SIGTERM";
	case SIGUSR1: return "SIGUSR1";
	case SIGUSR2: return "SIGUSR2";
	case SIGXCPU: return "SIGXCPU";
	case SIGXFSZ: return "SIGXFSZ";
	}
	snprintf(buf, sizeof(buf), "signal %d", sig);
	return buf;
}

/* 1500 -> "1.5 s"; 5400000 -> "1h30m"; 90000 -> "1m30s" */
static void fmt_duration(char *buf, size_t len, long ms)
{
	long s = ms / 1000;
	size_t n = 0;

	if (ms < 60000) {
		snprintf(buf, len, "%ld.%01ld s", s, ms % 1000 / 100);
		return;
	}
	buf[0] = '\0';
	if (s >= 3600)
		n += (size_t)snprintf(buf + n, len - n, "%ldh", s / 3600);
	if (n < len && s % 3600 >= 60)
		n += (size_t)snprintf(buf + n, len - n, "%ldm", s % 3600 / 60);
	if (n < len && s % 60)
		snprintf(buf + n, len - n, "%lds", s % 60);
}

/*
 * Start the command: posix_spawnp (a vfork underneath, so a process with
 * this many libraries mapped starts it quickly; glibc reports a failed
 * exec as its return value). The command gets a process group of its own,
 * default signal handling, the caller's signal mask, the pipes as stdout
 * and stderr, and at an interactive terminal the foreground.
 */
static int run_spawn(const struct run_opts *o, struct run_state *st,
		     int out_fd, int err_fd, const sigset_t *mask, int tty_fg)
{
	posix_spawn_file_actions_t fa;
	posix_spawnattr_t attr;
	sigset_t deflt;
	const short flags = POSIX_SPAWN_SETPGROUP | POSIX_SPAWN_SETSIGMASK |
			    POSIX_SPAWN_SETSIGDEF;
	int rc;

	posix_spawn_file_actions_init(&fa);
	posix_spawnattr_init(&attr);
	if (out_fd >= 0)
		posix_spawn_file_actions_adddup2(&fa, out_fd, STDOUT_FILENO);
	if (err_fd >= 0)
		posix_spawn_file_actions_adddup2(&fa, err_fd, STDERR_FILENO);
	sigemptyset(&deflt);
	sigaddset(&deflt, SIGPIPE);
	sigaddset(&deflt, SIGINT);
	sigaddset(&deflt, SIGTERM);
	sigaddset(&deflt, SIGHUP);
	sigaddset(&deflt, SIGCHLD);
	sigaddset(&deflt, SIGTTOU);
	posix_spawnattr_setpgroup(&attr, 0);
	posix_spawnattr_setsigmask(&attr, mask);
	posix_spawnattr_setsigdefault(&attr, &deflt);
	if (tty_fg)
		posix_spawn_file_actions_addtcsetpgrp_np(&fa, STDIN_FILENO);
	posix_spawnattr_setflags(&attr, flags);
	rc = posix_spawnp(&st->pid, o->argv[0], &fa, &attr, o->argv, environ);
	posix_spawnattr_destroy(&attr);
	posix_spawn_file_actions_destroy(&fa);
	if (rc) {
		st->pid = -1;
		st->exec_errno = rc;
		st->ended_ms = clock_now_ms();
	}
	return rc;
}

static void run_forward(struct run_state *st, int sig)
{
	st->forwarded = sig;
	log_debug("run: forwarding %s to process group %d", signal_name(sig),
		  (int)st->pid);
	kill(-st->pid, sig);
}

static void run_reap(struct run_state *st)
{
	int status;
	pid_t r;

	if (st->reaped)
		return;
	do {
		r = waitpid(st->pid, &status, WNOHANG);
	} while (r < 0 && errno == EINTR);
	if (r == st->pid) {
		st->status = status;
		st->reaped = 1;
		st->ended_ms = clock_now_ms();
	}
}

/* Read one chunk from a pipe; pass it through and keep the tail. */
static int run_pump(struct run_state *st, int *fd, int out, int *pass)
{
	char buf[65536];
	ssize_t n;

	do {
		n = read(*fd, buf, sizeof(buf));
	} while (n < 0 && errno == EINTR);
	if (n < 0 && errno == EAGAIN)
		return 0;
	if (n <= 0) {
		close(*fd);
		*fd = -1;
		return 0;
	}
	if (!st->limit_known && st->start && hc_async_done(st->start)) {
		size_t want = st->hc->body_limit;

		st->limit_known = 1;
		if (want > HC_TAIL_MAX)
			want = HC_TAIL_MAX;
		if (hc_tail_grow(&st->tail, want) < 0)
			log_debug("run: cannot grow the tail to %zu bytes", want);
	}
	hc_tail_add(&st->tail, buf, (size_t)n);
	/* A reader that went away stops the passing, not the command. */
	if (*pass && write_all(out, buf, (size_t)n) < 0)
		*pass = 0;
	return 1;
}

/*
 * The loop: pump output, forward signals, enforce the timeout, until the
 * command is reaped and its pipes are closed (or idle, see above).
 */
static void run_loop(const struct run_opts *o, struct run_state *st,
		     int out_r, int err_r)
{
	long term_at = o->timeout_ms ? st->started_ms + o->timeout_ms : 0;
	long kill_at = 0;

	for (;;) {
		struct pollfd pfd[3];
		int n = 0, wait_ms = -1, got;
		long t = clock_now_ms();

		if (term_at && !st->timed_out && !st->reaped && t >= term_at) {
			st->timed_out = 1;
			log_debug("run: timeout, sending SIGTERM to the process group");
			kill(-st->pid, SIGTERM);
			kill_at = t + o->kill_after_ms;
		}
		/* After a timeout, what is left of the group gets SIGKILL,
		 * grandchildren included, even when the command is gone. */
		if (kill_at && !st->killed && t >= kill_at) {
			st->killed = 1;
			kill(-st->pid, SIGKILL);
		}
		if (st->reaped && out_r < 0 && err_r < 0 &&
		    (!kill_at || st->killed || kill(-st->pid, 0) < 0))
			break;
		if (term_at && !st->timed_out)
			wait_ms = (int)(term_at - t);
		if (kill_at && !st->killed) {
			long w = kill_at - t;

			if (wait_ms < 0 || w < wait_ms)
				wait_ms = (int)w;
		}
		if (st->reaped && (out_r >= 0 || err_r >= 0) &&
		    (wait_ms < 0 || wait_ms > RUN_DRAIN_IDLE_MS))
			wait_ms = RUN_DRAIN_IDLE_MS;
		if (st->reaped && out_r < 0 && err_r < 0 &&
		    (wait_ms < 0 || wait_ms > 100))
			wait_ms = 100; /* poll the group until it is gone */
		pfd[n++] = (struct pollfd){ .fd = run_sigpipe[0], .events = POLLIN };
		if (out_r >= 0)
			pfd[n++] = (struct pollfd){ .fd = out_r, .events = POLLIN };
		if (err_r >= 0)
			pfd[n++] = (struct pollfd){ .fd = err_r, .events = POLLIN };
		got = poll(pfd, (nfds_t)n, wait_ms < 0 ? -1 : wait_ms);
		if (got < 0 && errno == EINTR)
			continue;
		if (got == 0 && st->reaped && (out_r >= 0 || err_r >= 0)) {
			/* Idle after the exit: something else holds the pipes. */
			if (out_r >= 0)
				close(out_r);
			if (err_r >= 0)
				close(err_r);
			out_r = err_r = -1;
			continue;
		}
		for (int i = 0; i < n; i++) {
			if (!(pfd[i].revents & (POLLIN | POLLHUP | POLLERR)))
				continue;
			if (pfd[i].fd == run_sigpipe[0]) {
				unsigned char sigs[64];
				ssize_t k = read(run_sigpipe[0], sigs, sizeof(sigs));

				for (ssize_t j = 0; j < k; j++) {
					if (sigs[j] == SIGCHLD)
						run_reap(st);
					else if (!st->reaped)
						run_forward(st, sigs[j]);
				}
			} else if (pfd[i].fd == out_r) {
				run_pump(st, &out_r, STDOUT_FILENO, &st->pass_out);
			} else if (pfd[i].fd == err_r) {
				run_pump(st, &err_r, STDERR_FILENO, &st->pass_err);
			}
		}
		run_reap(st); /* a SIGCHLD may have raced the pipe */
	}
}

/* The lock: 0 taken, 1 held by another run, -1 error. */
static int run_lock(const char *path, int *fd, struct err *e)
{
	*fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0644);
	if (*fd < 0)
		return err_errno(e, "cannot open the lock '%s'", path);
	if (flock(*fd, LOCK_EX | LOCK_NB) == 0)
		return 0;
	if (errno == EWOULDBLOCK)
		return 1;
	return err_errno(e, "cannot lock '%s'", path);
}

static int run_locked_out(struct cmd_ctx *ctx, const struct run_opts *o,
			  struct hc *hc, int have_hc)
{
	static const char msg[] = "skipped: previous run still active";
	struct err e = { { 0 } };

	if (have_hc) {
		struct hc_ping p = {
			.signal = o->lock_log_only ? HC_LOG : HC_FAIL,
			.summary = msg,
		};

		if (hc_ping(hc, o->check, &p, NULL, &e) < 0)
			run_warn(ctx, e.msg);
	}
	if (o->lock_log_only) {
		cmd_info(ctx, "saasctl: run: %s (lock '%s' is held)", msg,
			 o->lock);
		return EXIT_OK;
	}
	return cmd_fail(ctx, "%s (lock '%s' is held)", msg, o->lock);
}

/* The finish ping: exit code, or fail naming the signal or the timeout. */
static void run_report(struct cmd_ctx *ctx, const struct run_opts *o,
		       struct hc *hc, struct run_state *st, const char *rid,
		       int code)
{
	struct hc_ping p = { .signal = HC_EXIT, .exit_code = code, .rid = rid };
	struct strbuf body = STRBUF_INIT, summary = STRBUF_INIT;
	struct err e = { { 0 } };
	char took[32];

	strbuf_init(&body, 0);
	strbuf_init(&summary, 0);
	fmt_duration(took, sizeof(took), st->ended_ms - st->started_ms);
	if (st->exec_errno) {
		p.signal = HC_FAIL;
		strbuf_addf(&summary, "saasctl: cannot run '%s': %s", o->argv[0],
			    strerror(st->exec_errno));
	} else if (st->timed_out) {
		p.signal = HC_FAIL;
		fmt_duration(took, sizeof(took), o->timeout_ms);
		strbuf_addf(&summary, "saasctl: timed out after %s: sent SIGTERM%s",
			    took, st->killed ? ", then SIGKILL" : "");
	} else if (WIFSIGNALED(st->status)) {
		p.signal = HC_FAIL;
		strbuf_addf(&summary, "saasctl: killed by %s after %s",
			    signal_name(WTERMSIG(st->status)), took);
	} else {
		strbuf_addf(&summary, "saasctl: exit status %d after %s", code,
			    took);
	}
	hc_tail_get(&st->tail, &body);
	p.body = body.buf;
	p.body_len = body.len;
	p.dropped = st->tail.total - st->tail.len;
	p.summary = summary.buf;
	if (hc_ping(hc, o->check, &p, NULL, &e) < 0)
		run_warn(ctx, e.msg);
	strbuf_release(&body);
	strbuf_release(&summary);
}

static int cmd_run(struct cmd_ctx *ctx, int argc, char **argv)
{
	struct run_opts o = { 0 };
	struct run_state st = { .pid = -1 };
	struct hc hc = { 0 };
	struct monorepo *repo = NULL;
	struct hc_async *start = NULL;
	struct err e = { { 0 } };
	struct sigaction sa = { 0 };
	sigset_t block, oldmask;
	int out_p[2] = { -1, -1 }, err_p[2] = { -1, -1 };
	int lock_fd = -1, have_hc = 0, capture, status, code = EXIT_FAIL;
	int tty_fg = 0;
	char rid[37];

	status = parse_args(ctx, argc, argv, &o);
	if (status)
		return status;
	if (o.check) {
		/* Broken settings must not cost the job its run. */
		if (hc_cmd_open(ctx, &hc, &repo, 0) == 0)
			have_hc = 1;
		else
			run_warn(ctx, "running the command without pings");
	}
	if (o.lock) {
		int r = run_lock(o.lock, &lock_fd, &e);

		if (r < 0) {
			code = cmd_fail_err(ctx, &e);
			goto out;
		}
		if (r > 0) {
			code = run_locked_out(ctx, &o, &hc, have_hc);
			goto out;
		}
	}
	capture = have_hc || o.quiet;
	st.pass_out = st.pass_err = !o.quiet;
	if (hc_tail_init(&st.tail, have_hc ? hc.body_limit : 0) < 0) {
		code = cmd_fail(ctx, "out of memory");
		goto out;
	}
	if (pipe2(run_sigpipe, O_CLOEXEC | O_NONBLOCK) < 0 ||
	    (capture && (pipe2(out_p, O_CLOEXEC) < 0 ||
			 pipe2(err_p, O_CLOEXEC) < 0))) {
		code = cmd_fail(ctx, "cannot create a pipe: %s", strerror(errno));
		goto out;
	}
	/* Signals arrive through the self-pipe; block them while threads
	 * start so that only this thread runs the handler. */
	sigemptyset(&block);
	sigaddset(&block, SIGINT);
	sigaddset(&block, SIGTERM);
	sigaddset(&block, SIGHUP);
	sigaddset(&block, SIGCHLD);
	sigprocmask(SIG_BLOCK, &block, &oldmask);
	sa.sa_handler = run_on_signal;
	sa.sa_flags = SA_RESTART;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGHUP, &sa, NULL);
	sigaction(SIGCHLD, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);

	hc_new_rid(rid);
	st.hc = &hc;

	/* At an interactive terminal the command gets the foreground, so
	 * that it can read the terminal and ^C reaches it directly. */
	if (isatty(STDIN_FILENO) && tcgetpgrp(STDIN_FILENO) == getpgrp()) {
		signal(SIGTTOU, SIG_IGN);
		tty_fg = 1;
	}
	st.started_ms = clock_now_ms();
	if (run_spawn(&o, &st, out_p[1], err_p[1], &oldmask, tty_fg) == 0) {
		/* The start ping (and libcurl's set-up) only now, while the
		 * command already runs. */
		if (have_hc && !o.no_start_ping) {
			struct hc_ping p = { .signal = HC_START, .rid = rid };

			if (hc_async_ping(&start, &hc, o.check, &p, &e) < 0) {
				run_warn(ctx, e.msg);
				start = NULL;
			}
			st.start = start;
		}
		if (capture) {
			close(out_p[1]);
			close(err_p[1]);
			out_p[1] = err_p[1] = -1;
		}
		sigprocmask(SIG_SETMASK, &oldmask, NULL);
		run_loop(&o, &st, out_p[0], err_p[0]);
		out_p[0] = err_p[0] = -1; /* closed by the loop */
	} else {
		sigprocmask(SIG_SETMASK, &oldmask, NULL);
	}
	if (tty_fg)
		tcsetpgrp(STDIN_FILENO, getpgrp());

	if (st.exec_errno) {
		code = st.exec_errno == ENOENT ? 127 : 126;
		cmd_fail(ctx, "cannot run '%s': %s", o.argv[0],
			 strerror(st.exec_errno));
	} else if (st.timed_out) {
		char limit[32];

		code = 124;
		fmt_duration(limit, sizeof(limit), o.timeout_ms);
		cmd_fail(ctx, "'%s' timed out after %s%s", o.argv[0], limit,
			 st.killed ? "; killed with SIGKILL" : "");
	} else if (WIFSIGNALED(st.status)) {
		code = 128 + WTERMSIG(st.status);
	} else {
		code = WEXITSTATUS(st.status);
	}
	if (start) {
		/* The finish must not overtake the start at the server. */
		if (hc_async_finish(start, RUN_START_GRACE_MS, &e) < 0)
			run_warn(ctx, e.msg);
		start = st.start = NULL;
	}
	if (have_hc)
		run_report(ctx, &o, &hc, &st, o.no_start_ping ? NULL : rid, code);
out:
	for (int i = 0; i < 2; i++) {
		if (out_p[i] >= 0)
			close(out_p[i]);
		if (err_p[i] >= 0)
			close(err_p[i]);
	}
	if (lock_fd >= 0)
		close(lock_fd);
	hc_tail_release(&st.tail);
	if (have_hc)
		hc_release(&hc);
	monorepo_free(repo);
	return code;
}

const struct cmd_entry cmd_run_entry = {
	.name = "run",
	.usage = "[--check CHECK] [--timeout DURATION] [--kill-after DURATION] [--lock FILE] [--if-locked fail|log] [--no-start-ping] [--quiet] -- CMD ARGS...",
	.summary = "run a cron job: pass its output through and report it to Healthchecks",
	.exec = cmd_run,
	.complete = COMPLETE_FILES,
	.secrets = 1,
};
