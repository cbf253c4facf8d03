using System;

namespace NetCmdlets.Core.Proxy;

/// <summary>
/// What passed one way of a proxied connection and is not a whole message yet, for whoever cuts it into
/// messages beside the forwarding (the proxy's observer, a message fault): chunks appended, messages
/// consumed from the front.
/// </summary>
internal sealed class UnframedBytes
{
    private byte[] _buffer = Array.Empty<byte>();
    private int _start;
    private int _end;

    /// <summary>Bytes are kept.</summary>
    public bool Any => _start < _end;

    /// <summary>All that is kept, from its first byte: what a framer reads.</summary>
    public ArraySegment<byte> Kept => new(_buffer, _start, _end - _start);

    public void Append(ArraySegment<byte> chunk)
    {
        int count = _end - _start;
        if (_end + chunk.Count > _buffer.Length)
        {
            byte[] target = count + chunk.Count > _buffer.Length ? new byte[Math.Max(count + chunk.Count, Math.Max(4096, _buffer.Length * 2))] : _buffer;
            Buffer.BlockCopy(_buffer, _start, target, 0, count);
            _buffer = target;
            _start = 0;
            _end = count;
        }
        Buffer.BlockCopy(chunk.Array!, chunk.Offset, _buffer, _end, chunk.Count);
        _end += chunk.Count;
    }

    /// <summary>The first <paramref name="count"/> bytes are done with (a message cut); the next message starts after them.</summary>
    public void Consume(int count)
    {
        _start += count;
        if (_start == _end) _start = _end = 0;
    }

    /// <summary>Forgets what is kept (its bytes stay valid until the next <see cref="Append"/>).</summary>
    public void Clear() => _start = _end = 0;
}
