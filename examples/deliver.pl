#!/usr/bin/env perl
# A simple delivery server: drains the queue whatever the mode, logs each outcome, sleeps, and
# repeats. SIGTERM or Ctrl-C stops it cleanly: the current drain finishes, the engine closes, and
# it exits 0. Extend it as you need (alerts, metrics, several databases, ...).
#
# The relay comes from --smtp HOST:PORT (or EN_NOTIFY_SMTP), else from the properties stored in
# the database (e.g. set with `en-deliver`).
use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/../bindings/perl/lib";
use Getopt::Long qw(GetOptions);
use POSIX qw(strftime);
use Time::HiRes ();
use EN::Notify;

binmode STDOUT, ':encoding(UTF-8)';
$| = 1;

my %option = (db => $ENV{EN_NOTIFY_DB} // 'en-notify.db', smtp => $ENV{EN_NOTIFY_SMTP}, interval => 30);
GetOptions('db=s' => \$option{db}, 'smtp=s' => \$option{smtp}, 'interval=f' => \$option{interval})
    or die "usage: $0 [--db FILE] [--smtp HOST:PORT] [--interval SECONDS]\n";

sub logline { print strftime('%Y-%m-%d %H:%M:%S', localtime), " deliver ", @_, "\n" }

# Perl runs the handler between statements, so a drain in progress finishes first; the signal
# also cuts the sleep short.
my $stop = 0;
$SIG{TERM} = $SIG{INT} = sub { $stop = 1 };

sub drain_once {
    my ($engine) = @_;
    my $report = eval { $engine->drain };
    if (!$report) {
        # A database or configuration problem may be fixed while we run: log it and go on.
        logline("drain failed: $@");
        return;
    }
    logline('delivery is disabled (EN_DeliveryEnabled); nothing sent') if $report->{delivery_disabled};
    logline(sprintf 'drained: sent %d, deferred %d, failed %d', @{$report}{qw(sent deferred failed)});
}

my $engine = EN::Notify->open($option{db}, defined $option{smtp} ? { email_server => $option{smtp} } : undef);
logline("delivering from $option{db} every $option{interval}s (en-notify ", EN::Notify->version, ')');
until ($stop) {
    drain_once($engine);
    Time::HiRes::sleep($option{interval}) unless $stop;
}
$engine->close;
logline('stopped');
exit 0;
