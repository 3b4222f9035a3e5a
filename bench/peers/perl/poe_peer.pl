#!/usr/bin/perl
# Perl POE peer: the reference implementation doing the same work as bench/peers/poe_impl.py.
#
#   perl bench/peers/perl/poe_peer.pl BENCH N
#
# prints one JSON line {"value": ..., "unit": ..., "note": ...} like the Python peers.
# Benchmarks: dispatch (yield chain), pingpong (post to SENDER), call (cross-session call),
# timers (delay_set over one second), sessions (create/destroy in batches), idle-sessions
# (alias-only sessions, RSS delta from /proc/self/statm), startup (wall time of a minimal program).
use strict;
use warnings;
use POSIX ();
use Time::HiRes ();
use POE;

my $TIMER_STRIDE  = 7919;    # same scattered-uniform due times as bench/peers/_common.py
my $SESSION_BATCH = 1000;

sub emit {
    my ($value, $unit, $note) = @_;
    my $extra = defined $note ? qq(, "note": "$note") : q();
    printf qq({"value": %.10g, "unit": "%s"%s}\n), $value, $unit, $extra;
}

sub cpu_seconds {
    my ($user, $system) = times;
    return $user + $system;
}

sub rss_bytes {
    open my $fh, '<', '/proc/self/statm' or die "statm: $!";
    my @fields = split ' ', scalar <$fh>;
    close $fh;
    return $fields[1] * POSIX::sysconf(POSIX::_SC_PAGESIZE());
}

sub bench_dispatch {
    my ($n) = @_;
    my ($start, $end);
    POE::Session->create(
        inline_states => {
            _start => sub { $_[KERNEL]->yield('go') },
            go     => sub {
                $_[HEAP]{left} = $n;
                $start = Time::HiRes::time();
                $_[KERNEL]->yield('tick');
            },
            tick => sub {
                if (--$_[HEAP]{left}) { $_[KERNEL]->yield('tick') }
                else                  { $end = Time::HiRes::time() }
            },
        },
    );
    POE::Kernel->run();
    emit($n / ($end - $start), 'events/s');
}

sub bench_pingpong {
    my ($n) = @_;
    my ($start, $end);
    my $bounce = sub {
        my ($kernel, $sender, $count, $reply) = @_;
        if ($count >= $n) { $end = Time::HiRes::time(); $kernel->stop() }
        else              { $kernel->post($sender, $reply, $count + 1) }
    };
    POE::Session->create(
        inline_states => {
            _start => sub { $_[KERNEL]->alias_set('pong') },
            ping   => sub { $bounce->($_[KERNEL], $_[SENDER], $_[ARG0], 'pong') },
        },
    );
    POE::Session->create(
        inline_states => {
            _start => sub { $_[KERNEL]->alias_set('ping'); $_[KERNEL]->yield('go') },
            go     => sub { $start = Time::HiRes::time(); $_[KERNEL]->post('pong', 'ping', 1) },
            pong   => sub { $bounce->($_[KERNEL], $_[SENDER], $_[ARG0], 'ping') },
        },
    );
    POE::Kernel->run();
    emit($n / ($end - $start), 'events/s');
}

sub bench_call {
    my ($n) = @_;
    my ($start, $end);
    POE::Session->create(
        inline_states => {
            _start => sub { $_[KERNEL]->alias_set('callee') },
            add    => sub { $_[ARG0] + 1 },
        },
    );
    POE::Session->create(
        inline_states => {
            _start => sub { $_[KERNEL]->yield('go') },
            go     => sub {
                my $kernel = $_[KERNEL];
                my $callee = $kernel->alias_resolve('callee');
                $start = Time::HiRes::time();
                $kernel->call($callee, 'add', $_) for 1 .. $n;
                $end = Time::HiRes::time();
                $kernel->stop();
            },
        },
    );
    POE::Kernel->run();
    emit($n / ($end - $start), 'calls/s');
}

sub bench_timers {
    my ($n) = @_;
    my ($cpu_start, $cpu_end, $set_rate);
    my $fired = 0;
    POE::Session->create(
        inline_states => {
            _start => sub { $_[KERNEL]->yield('go') },
            go     => sub {
                my $kernel = $_[KERNEL];
                $cpu_start = cpu_seconds();
                my $wall = Time::HiRes::time();
                $kernel->delay_set('ring', (($_ * $TIMER_STRIDE) % $n) / $n) for 0 .. $n - 1;
                $set_rate = $n / (Time::HiRes::time() - $wall);
            },
            ring => sub { $cpu_end = cpu_seconds() if ++$fired == $n },
        },
    );
    POE::Kernel->run();
    emit(($cpu_end - $cpu_start) / $n * 1e6, 'us/timer', sprintf('set %.0fk/s', $set_rate / 1e3));
}

sub bench_sessions {
    my ($n) = @_;
    my ($start, $end);
    my $stopped = 0;
    my $made    = 0;
    my %child   = (
        _start => sub { $_[KERNEL]->yield('work') },
        work   => sub { },
        _stop  => sub { $end = Time::HiRes::time() if ++$stopped == $n },
    );
    POE::Session->create(
        inline_states => {
            _start => sub { $_[KERNEL]->yield('batch') },
            batch  => sub {
                $start //= Time::HiRes::time();
                my $count = $n - $made < $SESSION_BATCH ? $n - $made : $SESSION_BATCH;
                POE::Session->create(inline_states => {%child}) for 1 .. $count;
                $made += $count;
                $_[KERNEL]->yield('batch') if $made < $n;
            },
        },
    );
    POE::Kernel->run();
    emit($n / ($end - $start), 'sessions/s', 'one yield each, batches of ' . $SESSION_BATCH);
}

sub bench_idle_sessions {
    my ($n) = @_;
    my $per_session;
    my %child = (_start => sub { $_[KERNEL]->alias_set($_[ARG0]) });
    POE::Session->create(
        inline_states => {
            _start => sub { $_[KERNEL]->yield('build') },
            build  => sub {
                $_[HEAP]{before} = rss_bytes();
                POE::Session->create(inline_states => {%child}, args => ["idle-$_"]) for 1 .. $n;
                $_[KERNEL]->yield('measure');
            },
            measure => sub {
                $per_session = (rss_bytes() - $_[HEAP]{before}) / $n;
                $_[KERNEL]->stop();
            },
        },
    );
    POE::Kernel->run();
    emit($per_session, 'bytes', 'alias-only session (RSS delta)');
}

sub bench_startup {
    my ($n) = @_;
    my $program = <<'PERL';
use POE;
POE::Session->create(inline_states => {_start => sub { $_[KERNEL]->yield('once') }, once => sub { }});
POE::Kernel->run();
PERL
    my @walls;
    for my $i (0 .. $n) {
        my $start = Time::HiRes::time();
        system($^X, '-e', $program) == 0 or die "startup program failed: $?";
        push @walls, Time::HiRes::time() - $start if $i;    # run 0 warms the page cache
    }
    @walls = sort { $a <=> $b } @walls;
    my $mid = int(@walls / 2);
    my $median = @walls % 2 ? $walls[$mid] : ($walls[$mid - 1] + $walls[$mid]) / 2;
    POE::Kernel->run();    # no session: returns at once, and silences the "run() never called" warning
    emit($median * 1e3, 'ms');
}

my %benches = (
    'dispatch'      => \&bench_dispatch,
    'pingpong'      => \&bench_pingpong,
    'call'          => \&bench_call,
    'timers'        => \&bench_timers,
    'sessions'      => \&bench_sessions,
    'idle-sessions' => \&bench_idle_sessions,
    'startup'       => \&bench_startup,
);

my ($bench, $n) = @ARGV;
die "usage: $0 BENCH N (BENCH: " . join(', ', sort keys %benches) . ")\n"
    unless defined $n && $benches{$bench};
$benches{$bench}->($n);
