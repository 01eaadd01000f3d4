# The Perl examples run from the checkout and do what they say.
use strict;
use warnings;
use utf8;
use Test::More;
use File::Spec;
use File::Temp ();
use lib 't/lib';
use ENTest qw(fresh_db start_smtp_server poll_until repo_root);
use EN::Notify;

my $examples = File::Spec->catdir(repo_root(), 'examples');
my $subject = 'Änderung: CR-7 — ready ✓';

subtest 'hook.pl against a relay' => sub {
    my $server = start_smtp_server();
    my $output = `"$^X" "$examples/hook.pl" --db "${\ fresh_db()}" --smtp ${\ $server->address} --record CR-7 2>&1`;
    is($?, 0, 'exits 0') or diag $output;
    like($output, qr/flush: sent 1,/, 'prints the outcome');
    my @got = $server->messages;
    is(scalar @got, 1, 'the server received the message');
    is($got[0]{subject}, $subject, 'with the non-ASCII subject intact');
};

subtest 'hook.pl into a pickup folder' => sub {
    my $outbox = File::Temp->newdir('en-notify-outbox-XXXXXX', TMPDIR => 1);
    my $output = `"$^X" "$examples/hook.pl" --db "${\ fresh_db()}" --pickup-dir "${\ $outbox->dirname}" 2>&1`;
    is($?, 0, 'exits 0') or diag $output;
    opendir(my $dh, $outbox->dirname) or die "opendir: $!";
    my @files = grep { /\.eml\z/ } readdir $dh;
    is(scalar @files, 1, 'one .eml file in the pickup folder');
};

subtest 'deliver.pl drains a Queue-mode message and stops on TERM' => sub {
    my $server = start_smtp_server();
    my $db = fresh_db();
    my $engine = EN::Notify->open($db);
    $engine->set_mode('Queue');

    my $pid = open(my $log, '-|', $^X, "$examples/deliver.pl", '--db', $db,
        '--smtp', $server->address, '--interval', '0.1')
        or die "cannot start deliver.pl: $!";
    my $id = $engine->notify({ from => 'tracker@example.com', to => ['dev@example.com'],
        subject => $subject, text => "queued\n" });
    ok($engine->flush->{held_by_mode}, 'the client only queued it');

    ok(poll_until(20, sub { scalar $server->messages }), 'deliver.pl delivered it');
    kill 'TERM', $pid;
    my @lines = <$log>;
    close $log;
    is($?, 0, 'exits 0 after TERM') or diag @lines;
    like($lines[-1], qr/stopped$/, 'logs that it stopped') or diag @lines;
    ok(grep({ /drained: sent 1,/ } @lines), 'logs the delivery') or diag @lines;
    is($engine->show($id)->{status}, 'sent', 'the message is sent');
    is(($server->messages)[0]{subject}, $subject, 'with its subject');
};

done_testing;
