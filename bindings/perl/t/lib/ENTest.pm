package ENTest;
# Shared test fixtures: the project's real SMTP server, fresh databases, received messages.
use strict;
use warnings;
use Exporter 'import';
use Encode ();
use File::Spec;
use File::Temp ();
use FindBin ();
use JSON::PP ();
use Time::HiRes ();

our @EXPORT_OK = qw(fresh_db start_smtp_server sample_message poll_until repo_root);

sub repo_root { File::Spec->rel2abs(File::Spec->catdir($FindBin::Bin, '..', '..', '..')) }

# A path for a database that does not exist yet, in a folder removed at exit.
sub fresh_db {
    my $dir = File::Temp->newdir('en-notify-perl-XXXXXX', TMPDIR => 1);
    push @ENTest::KEEP, $dir;
    return File::Spec->catfile($dir->dirname, 'queue.db');
}

sub start_smtp_server { ENTest::SMTPServer->start(@_) }

sub sample_message {
    my (%fields) = @_;
    return {
        from    => 'tracker@example.com',
        to      => ['dev@example.com'],
        subject => "\x{c4}nderung: CR-42 \x{2014} ready \x{2713}",
        text    => "CR-42 changed state.\n",
        html    => '<p>CR-42 changed <b>state</b>.</p>',
        %fields,
    };
}

# Calls $check until it returns true or $seconds pass; returns its last value.
sub poll_until {
    my ($seconds, $check) = @_;
    my $deadline = Time::HiRes::time() + $seconds;
    while (1) {
        my $result = $check->();
        return $result if $result || Time::HiRes::time() > $deadline;
        Time::HiRes::sleep(0.02);
    }
}

package ENTest::SMTPServer;

# Starts tests/servers/smtp_server.py with a pipe open and waits for "READY <port>".
sub start {
    my ($class, @flags) = @_;
    my $dir = File::Temp->newdir('en-notify-smtp-XXXXXX', TMPDIR => 1);
    my $script = File::Spec->catfile(ENTest::repo_root(), 'tests', 'servers', 'smtp_server.py');
    my $pid = open(my $out, '-|', 'python3', $script, '--dir', $dir->dirname, @flags)
        or die "cannot start $script: $!";
    my $line = <$out>;
    die "the SMTP server did not start\n" unless defined $line && $line =~ /^READY (\d+)/;
    return bless { pid => $pid, out => $out, dir => $dir, port => $1 }, $class;
}

sub port    { $_[0]{port} }
sub address { "127.0.0.1:$_[0]{port}" }
sub dir     { $_[0]{dir}->dirname }

# Every message received so far, oldest first: {raw, envelope, subject}.
sub messages {
    my ($self) = @_;
    opendir(my $dh, $self->dir) or die "cannot read " . $self->dir . ": $!";
    my @names = sort grep { /^[^.].*\.eml\z/ } readdir $dh;
    return map { $self->_read(substr $_, 0, -4) } @names;
}

sub _read {
    my ($self, $name) = @_;
    my $raw = _slurp(File::Spec->catfile($self->dir, "$name.eml"));
    my ($head) = split /\r?\n\r?\n/, $raw, 2;
    $head =~ s/\r?\n[ \t]+/ /g;    # unfold
    my ($subject) = $head =~ /^Subject: ?(.*?)\r?$/mi;
    return {
        raw      => $raw,
        envelope => JSON::PP->new->utf8->decode(_slurp(File::Spec->catfile($self->dir, "$name.json"))),
        subject  => defined $subject ? Encode::decode('MIME-Header', $subject) : undef,
    };
}

sub _slurp {
    my ($path) = @_;
    open(my $fh, '<:raw', $path) or die "cannot read $path: $!";
    local $/;
    return scalar <$fh>;
}

sub stop {
    my ($self) = @_;
    return unless $self->{pid};
    kill 'TERM', delete $self->{pid};
    close $self->{out};
}

sub DESTROY { $_[0]->stop }

1;
