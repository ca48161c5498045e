#!/usr/bin/perl
# Plack::Test::Suite's client halves against an already running server that serves
# tests/plack/suite_app.ts (tests/plack/suite_test.ts starts it and sets the port).
use strict;
use warnings;
use Test::More;
use Plack::Test::Suite;

my $port = $ENV{STARLIGHT_PLACK_PORT}
    or plan skip_all => 'STARLIGHT_PLACK_PORT is unset: run via tests/plack/suite_test.ts';

# Every request names its case, so the one fetch app can serve the matching app half.
for my $case (@Plack::Test::Suite::TEST) {
    my ($name, $client) = @$case;
    $case->[1] = sub {
        my $cb = shift;
        $client->(sub {
            my $req = shift;
            $req->header('X-Plack-Test-Name' => $name);
            return $cb->($req);
        });
    };
}

# Test::TCP forks a server child and waits for the port; ours is already listening, so the
# child only idles until Test::TCP stops it with SIGTERM.
Plack::Test::Suite->run_server_tests(sub { sleep 1 while 1 }, $port);

done_testing;
