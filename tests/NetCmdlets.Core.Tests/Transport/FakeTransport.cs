using System.Collections.Concurrent;
using System.Net;
using NetCmdlets.Core.Transport;

namespace NetCmdlets.Core.Tests.Transport;

/// <summary>
/// A transport over an in-memory stream: the test feeds what the "peer" sends and reads what the
/// connection wrote. Writes can be held, to keep a send in progress.
/// </summary>
internal sealed class FakeTransport : ConnectionTransport
{
    private readonly FakeStream _stream = new();

    public override Stream Stream => _stream;

    public override IPEndPoint LocalEndPoint { get; } = new(IPAddress.Loopback, 1111);

    public override IPEndPoint RemoteEndPoint { get; } = new(IPAddress.Loopback, 2222);

    public override bool CanWaitForData => false;

    public override ValueTask<int> WaitForDataAsync() => new(0);

    public bool SendShutdown { get; private set; }

    public bool Closed { get; private set; }

    public bool Aborted { get; private set; }

    /// <summary>Bytes the connection wrote, in order.</summary>
    public byte[] Written => _stream.Written;

    /// <summary>While not set, writes wait.</summary>
    public ManualResetEventSlim WritesAllowed => _stream.WritesAllowed;

    public void PeerSends(byte[] bytes) => _stream.Incoming.Add(bytes);

    public void PeerCloses() => _stream.Incoming.Add(Array.Empty<byte>());

    public override void ShutdownSend() => SendShutdown = true;

    public override void Abort()
    {
        Aborted = true;
        _stream.Dispose();
    }

    public override void Close()
    {
        Closed = true;
        _stream.Dispose();
    }

    private sealed class FakeStream : Stream
    {
        private readonly MemoryStream _written = new();
        private byte[] _current = Array.Empty<byte>();
        private int _at;

        public BlockingCollection<byte[]> Incoming { get; } = new();

        public ManualResetEventSlim WritesAllowed { get; } = new(true);

        public byte[] Written
        {
            get { lock (_written) return _written.ToArray(); }
        }

        public override bool CanRead => true;
        public override bool CanSeek => false;
        public override bool CanWrite => true;
        public override long Length => throw new NotSupportedException();
        public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }

        public override int Read(byte[] buffer, int offset, int count)
        {
            if (_at == _current.Length)
            {
                _current = Incoming.Take();
                _at = 0;
                if (_current.Length == 0)
                {
                    Incoming.Add(_current); // the end stays the end
                    return 0;
                }
            }
            int n = Math.Min(count, _current.Length - _at);
            Buffer.BlockCopy(_current, _at, buffer, offset, n);
            _at += n;
            return n;
        }

        public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
            Task.Run(() => Read(buffer, offset, count), cancellationToken);

        public override ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
        {
            var array = new byte[buffer.Length];
            return new ValueTask<int>(Task.Run(() =>
            {
                int n = Read(array, 0, array.Length);
                array.AsSpan(0, n).CopyTo(buffer.Span);
                return n;
            }, cancellationToken));
        }

        public override void Write(byte[] buffer, int offset, int count)
        {
            WritesAllowed.Wait();
            lock (_written) _written.Write(buffer, offset, count);
        }

        public override Task WriteAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
            Task.Run(() => Write(buffer, offset, count), cancellationToken);

        public override ValueTask WriteAsync(ReadOnlyMemory<byte> buffer, CancellationToken cancellationToken = default)
        {
            byte[] copy = buffer.ToArray();
            return new ValueTask(Task.Run(() => Write(copy, 0, copy.Length), cancellationToken));
        }

        public override void Flush() { }
        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
        public override void SetLength(long value) => throw new NotSupportedException();
    }
}
