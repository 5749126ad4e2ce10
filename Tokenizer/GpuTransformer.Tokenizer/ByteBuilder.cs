namespace GpuTransformer.Tokenizer;

/// <summary>A growable byte buffer that can also be shortened, which trailing-whitespace removal needs.</summary>
internal sealed class ByteBuilder(int capacity)
{
    private byte[] _buffer = new byte[Math.Max(16, capacity)];

    public int Length { get; private set; }

    public ReadOnlySpan<byte> WrittenSpan => _buffer.AsSpan(0, Length);

    public void Append(byte b)
    {
        Reserve(1);
        _buffer[Length++] = b;
    }

    public void Append(ReadOnlySpan<byte> bytes)
    {
        Reserve(bytes.Length);
        bytes.CopyTo(_buffer.AsSpan(Length));
        Length += bytes.Length;
    }

    public bool EndsWith(ReadOnlySpan<byte> suffix) => WrittenSpan.EndsWith(suffix);

    public void Truncate(int length) => Length = length;

    public byte[] ToArray() => WrittenSpan.ToArray();

    private void Reserve(int extra)
    {
        if (Length + extra > _buffer.Length)
        {
            Array.Resize(ref _buffer, Math.Max(_buffer.Length * 2, Length + extra));
        }
    }
}
