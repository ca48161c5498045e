#!/usr/bin/perl
# Plack::Test::Suite's client halves against an already running server that serves
# tests/plack/suite_app.ts (tests/plack_suite_test.ts starts it and sets the port).
use strict;
use warnings;
use Test::More;
use Plack::Test::Suite;

my $port = $ENV{STARLIGHT_PLACK_PORT}
    or plan skip_all => 'STARLIGHT_PLACK_PORT is unset: run via tests/plack_suite_test.ts';

# Thrown out of a client half, at its first request, when the app answers that its case cannot
# be expressed by a fetch handler; a skip then stands in for the case's assertions.
my $UNSUPPORTED = "unsupported case\n";

for my $case (@Plack::Test::Suite::TEST) {
    my ($name, $client) = @$case;
    $case->[1] = sub {
        my $cb = shift;
        my $why;
        my $named = sub {
            my $req = shift;
            $req->header('X-Plack-Test-Name' => $name);
            my $res = $cb->($req);
            $why = $res->header('X-Plack-Unsupported') and die $UNSUPPORTED;
            return $res;
        };
        SKIP: {
            eval { $client->($named); 1 } and last SKIP;
            die $@ unless $@ eq $UNSUPPORTED;
            skip "$name: $why", 1;
        }
    };
}

# Test::TCP forks a server child and waits for the port; ours is already listening, so the
# child only idles until Test::TCP stops it with SIGTERM.
Plack::Test::Suite->run_server_tests(sub { sleep 1 while 1 }, $port);

done_testing;
