using System;
using System.IO;
using System.Threading;
using System.Threading.Tasks;

namespace NetCmdlets.Core.Tls;

/// <summary>
/// Passes reads and writes through, keeping a copy of the first bytes read: when a handshake fails,
/// they tell a peer that speaks plain text from one that speaks TLS badly.
/// </summary>
internal sealed class FirstBytesStream : Stream
{
    private const int Keep = 32;
    private readonly Stream _inner;
    private readonly byte[] _first = new byte[Keep];
    private int _kept;

    public FirstBytesStream(Stream inner) => _inner = inner;

    public ArraySegment<byte> First => new(_first, 0, _kept);

    /// <summary>After the handshake: reads pass straight through.</summary>
    public void StopKeeping() => _kept = Keep;

    public override bool CanRead => _inner.CanRead;

    public override bool CanSeek => false;

    public override bool CanWrite => _inner.CanWrite;

    public override long Length => throw new NotSupportedException();

    public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }

    public override void Flush() => _inner.Flush();

    public override Task FlushAsync(CancellationToken cancellationToken) => _inner.FlushAsync(cancellationToken);

    public override int Read(byte[] buffer, int offset, int count) => Kept(buffer, offset, _inner.Read(buffer, offset, count));

    public override async Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
        Kept(buffer, offset, await _inner.ReadAsync(buffer, offset, count, cancellationToken).ConfigureAwait(false));

#if NET8_0_OR_GREATER
    public override ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default) =>
        _kept >= Keep ? _inner.ReadAsync(buffer, cancellationToken) : ReadKeepingAsync(buffer, cancellationToken);

    private async ValueTask<int> ReadKeepingAsync(Memory<byte> buffer, CancellationToken cancellationToken)
    {
        int read = await _inner.ReadAsync(buffer, cancellationToken).ConfigureAwait(false);
        if (_kept < Keep && read > 0)
        {
            int take = Math.Min(read, Keep - _kept);
            buffer.Span.Slice(0, take).CopyTo(_first.AsSpan(_kept));
            _kept += take;
        }
        return read;
    }

    public override ValueTask WriteAsync(ReadOnlyMemory<byte> buffer, CancellationToken cancellationToken = default) => _inner.WriteAsync(buffer, cancellationToken);
#endif

    // .NET Framework's SslStream reads and writes its inner stream through Begin/End. Stream's own versions
    // would share one lock between reads and writes, so a pending read would block every write.
    public override IAsyncResult BeginRead(byte[] buffer, int offset, int count, AsyncCallback? callback, object? state)
    {
        if (_kept >= Keep) return _inner.BeginRead(buffer, offset, count, callback, state);
        var completion = new TaskCompletionSource<int>(state);
        ReadAsync(buffer, offset, count, CancellationToken.None).ContinueWith(read =>
        {
            if (read.IsFaulted) completion.TrySetException(read.Exception!.InnerExceptions);
            else if (read.IsCanceled) completion.TrySetCanceled();
            else completion.TrySetResult(read.Result);
            callback?.Invoke(completion.Task);
        }, TaskScheduler.Default);
        return completion.Task;
    }

    public override int EndRead(IAsyncResult asyncResult) =>
        asyncResult is Task<int> mine ? mine.GetAwaiter().GetResult() : _inner.EndRead(asyncResult);

    public override IAsyncResult BeginWrite(byte[] buffer, int offset, int count, AsyncCallback? callback, object? state) =>
        _inner.BeginWrite(buffer, offset, count, callback, state);

    public override void EndWrite(IAsyncResult asyncResult) => _inner.EndWrite(asyncResult);

    public override void Write(byte[] buffer, int offset, int count) => _inner.Write(buffer, offset, count);

    public override Task WriteAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) => _inner.WriteAsync(buffer, offset, count, cancellationToken);

    public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

    public override void SetLength(long value) => throw new NotSupportedException();

    protected override void Dispose(bool disposing)
    {
        if (disposing) _inner.Dispose();
        base.Dispose(disposing);
    }

    private int Kept(byte[] buffer, int offset, int read)
    {
        if (_kept < Keep && read > 0)
        {
            int take = Math.Min(read, Keep - _kept);
            Buffer.BlockCopy(buffer, offset, _first, _kept, take);
            _kept += take;
        }
        return read;
    }
}
