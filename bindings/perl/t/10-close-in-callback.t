# Closing the engine from inside its own transport sub, during a flush: the flush finishes
# through the same sub, quietly, and the engine is closed once it returns.
use strict;
use warnings;
use Test::More;
use lib 't/lib';
use ENTest qw(fresh_db sample_message);
use EN::Notify qw(:codes);

my @warnings;
local $SIG{__WARN__} = sub { push @warnings, @_ };

# Queues three messages, flushes with $transport (given the engine), returns the report and
# every message as a fresh engine on the same database sees it afterwards.
sub flush_three {
    my ($transport) = @_;
    my $db = fresh_db();
    my $engine = EN::Notify->open($db);
    $engine->notify(sample_message(subject => "message $_")) for 1 .. 3;
    $engine->set_transport(sub { $transport->($engine, @_) });
    my $report = $engine->flush;
    my $error = eval { $engine->list; 1 } ? undef : $@;
    return ($report, $error, EN::Notify->open($db)->list);
}

sub check_closed_after_flush {
    my ($report, $error, $messages) = @_;
    is_deeply([@$report{qw(sent deferred failed)}], [3, 0, 0], 'the flush reports 3 sent');
    is_deeply([map { "$_->{status}/$_->{attempts}" } @$messages], [('sent/1') x 3],
        'every message sent at its first attempt');
    isa_ok($error, 'EN::Notify::Error', 'a call after the flush');
    is($error && $error->code, EN_ERR_INVALID_HANDLE, 'croaks with code 13');
}

subtest 'close on the first message' => sub {
    @warnings = ();
    my $calls = 0;
    check_closed_after_flush(flush_three(sub {
        my ($engine) = @_;
        $engine->close if ++$calls == 1;
        return 1;
    }));
    is($calls, 3, 'the same sub delivered all three');
    is_deeply(\@warnings, [], 'no warnings');
};

subtest 'replace the sub, then close, on the first message' => sub {
    @warnings = ();
    my ($first, $second) = (0, 0);
    check_closed_after_flush(flush_three(sub {
        my ($engine) = @_;
        if (++$first == 1) {
            $engine->set_transport(sub { $second++; 1 });
            $engine->close;
        }
        return 1;
    }));
    is($first + $second, 3, 'the two subs delivered all three between them');
    is_deeply(\@warnings, [], 'no warnings');
};

done_testing;
