#!/usr/bin/perl
# Perl POE peer: the reference implementation doing the same work as bench/peers/poe_impl.py.
#
#   perl bench/peers/perl/poe_peer.pl BENCH N
#
# prints one JSON line {"value": ..., "unit": ..., "note": ...} like the Python peers.
# Benchmarks: dispatch (yield chain), pingpong (post to SENDER), call (cross-session call),
# timers (delay_set over one second), sessions (create/destroy in batches), idle-sessions
# (alias-only sessions, RSS delta from /proc/self/statm), startup (wall time of a minimal program),
# and the TCP benchmarks tcp-echo-pipelined, tcp-echo-rr, tcp-idle: a POE::Component::Server::TCP
# line echo (POE::Filter::Line, Literal "\n") against the C load client bench/peers/tcp_load.c
# (see bench/peers/_tcp.py for the protocol; $POE_BENCH_TCP_LOAD names the binary, else it is built
# here with cc -O2 into bench/.build/).
use strict;
use warnings;
use Cwd ();
use Digest::SHA ();
use File::Basename ();
use IO::Handle ();
use IPC::Open3 ();
use POSIX ();
use Socket qw(sockaddr_in);
use Symbol ();
use Time::HiRes ();

# tcp-idle needs many descriptors: raise the soft RLIMIT_NOFILE to the hard limit (core Perl has no
# setrlimit, the shell's ulimit does it) by re-running this script once under sh.
BEGIN {
    if (@ARGV && $ARGV[0] eq 'tcp-idle' && !$ENV{POE_BENCH_NOFILE_RAISED}) {
        $ENV{POE_BENCH_NOFILE_RAISED} = 1;
        exec 'sh', '-c', 'ulimit -n "$(ulimit -Hn)" 2>/dev/null; exec "$@"', 'sh', $^X, $0, @ARGV;
    }
}

use POE qw(Component::Server::TCP Filter::Line);

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

# ---------------------------------------------------------------------------------------------
# TCP benchmarks (the same protocol as bench/peers/_tcp.py)

my $TCP_CONNECTIONS = 50;
my $TCP_TICK        = 0.02;
my $TCP_TIMEOUT     = 240;
my $TCP_SPARE_FDS   = 64;
my %TCP_MODES = ('tcp-echo-pipelined' => 'pipelined', 'tcp-echo-rr' => 'rr', 'tcp-idle' => 'idle');

sub tcp_load_binary {
    return $ENV{POE_BENCH_TCP_LOAD} if $ENV{POE_BENCH_TCP_LOAD};
    my $peers  = Cwd::abs_path(File::Basename::dirname(__FILE__) . '/..');
    my $source = "$peers/tcp_load.c";
    open my $fh, '<:raw', $source or die "cannot read $source: $!\n";
    my $digest = substr(Digest::SHA::sha1_hex(do { local $/; <$fh> }), 0, 12);
    close $fh;
    my $dir    = "$peers/../.build";
    my $target = "$dir/tcp_load-$digest";
    return $target if -x $target;
    my ($cc) = grep { defined && length } $ENV{CC},
        map { my $c = $_; (grep { -x "$_/$c" } split /:/, $ENV{PATH}) ? $c : undef } qw(cc gcc clang);
    die "no C compiler (cc, gcc or clang; or \$CC) to build the load client tcp_load.c\n" unless $cc;
    mkdir $dir unless -d $dir;
    my $partial = "$target.$$.tmp";
    system($cc, '-O2', '-o', $partial, $source) == 0 or die "$cc -O2 tcp_load.c failed\n";
    rename $partial, $target or die "rename: $!\n";
    return $target;
}

sub commify {
    my ($number) = @_;
    1 while $number =~ s/^(\d+)(\d{3})/$1,$2/;
    return $number;
}

sub nofile_limit {
    open my $fh, '<', '/proc/self/limits' or return 1024;
    while (<$fh>) { return $1 if /^Max open files\s+(\d+)/ }
    return 1024;
}

sub bench_tcp {
    my ($bench, $n) = @_;
    my $mode    = $TCP_MODES{$bench};
    my $reduced = '';
    if ($mode eq 'idle') {
        my $limit = nofile_limit();
        if ($n + 1 > $limit - $TCP_SPARE_FDS) {
            $reduced = sprintf '; reduced from %s: RLIMIT_NOFILE hard limit %s', commify($n), commify($limit);
            $n       = $limit - $TCP_SPARE_FDS - 1;
        }
    }
    my ($conns, $lines) = $mode eq 'idle' ? ($n, 1) : ($TCP_CONNECTIONS, $n);
    my $binary = tcp_load_binary();
    my $port;
    POE::Component::Server::TCP->new(
        Address      => '127.0.0.1',
        Port         => 0,
        ClientFilter => POE::Filter::Line->new(Literal => "\n"),
        ClientInput  => sub { $_[HEAP]{client}->put($_[ARG0]) },
        Started      => sub { $port = (sockaddr_in($_[HEAP]{listener}->getsockname))[0] },
    );
    my ($pid, $to_client, $from_client, $client_err, $said, $before, $per_conn, $status);
    $said = '';
    POE::Session->create(
        inline_states => {
            _start => sub { $_[KERNEL]->yield('go') },
            go     => sub {
                ($to_client, $from_client, $client_err) = (Symbol::gensym, Symbol::gensym, Symbol::gensym);
                $pid = IPC::Open3::open3($to_client, $from_client, $client_err,
                    $binary, $mode, $port, $conns, $lines, $TCP_TIMEOUT);
                $from_client->blocking(0);
                $to_client->autoflush(1);
                $_[KERNEL]->delay(tick => $TCP_TICK);
            },
            tick => sub {
                if ($mode eq 'idle' && !defined $per_conn) {
                    while (sysread($from_client, my $chunk, 4096)) { $said .= $chunk }
                    if (!defined $before && $said =~ /^warm$/m) {
                        $before = rss_bytes();
                        print {$to_client} "go\n";
                    }
                    elsif (defined $before && $said =~ /^ready$/m) {
                        $per_conn = (rss_bytes() - $before) / $n;
                        close $to_client;
                    }
                }
                if (waitpid($pid, POSIX::WNOHANG()) == $pid) {
                    $status = $?;
                    $_[KERNEL]->stop();
                    return;
                }
                $_[KERNEL]->delay(tick => $TCP_TICK);
            },
        },
    );
    POE::Kernel->run();
    $from_client->blocking(1);
    $said .= do { local $/; <$from_client> } // '';
    my $problem = do { local $/; <$client_err> } // '';
    my @problem = split /\n/, $problem;
    die "load client exited with status " . ($status >> 8) . ": " . ($problem[-1] // 'no message') . "\n"
        if $status;
    my ($seconds) = $said =~ /"seconds":\s*([0-9.eE+-]+)/ or die "the load client printed no result\n";
    my $what = 'Server::TCP, Filter::Line(LF)';
    if ($mode eq 'idle') {
        die "the load client exited before the connections were measured\n" unless defined $per_conn;
        emit($per_conn, 'bytes/conn',
            sprintf('%s; %s held (RSS delta)%s, opened in %.1f s', $what, commify($n), $reduced, $seconds));
    }
    else {
        my ($rate) = $said =~ /"lines_per_s":\s*([0-9.eE+-]+)/;
        emit($rate, 'lines/s', sprintf('%s; %d x %s lines in %.2f s', $what, $conns, commify($lines), $seconds));
    }
}

my %benches = (
    'dispatch'      => \&bench_dispatch,
    'pingpong'      => \&bench_pingpong,
    'call'          => \&bench_call,
    'timers'        => \&bench_timers,
    'sessions'      => \&bench_sessions,
    'idle-sessions' => \&bench_idle_sessions,
    'startup'       => \&bench_startup,
    map { my $name = $_; ($name => sub { bench_tcp($name, @_) }) } keys %TCP_MODES,
);

my ($bench, $n) = @ARGV;
die "usage: $0 BENCH N (BENCH: " . join(', ', sort keys %benches) . ")\n"
    unless defined $n && $benches{$bench};
$benches{$bench}->($n);
