using System.Buffers.Binary;
using System.Text;

namespace GpuTransformer.Tokenizer;

/// <summary>
/// Reads protobuf wire format from a byte range. Every read is bounds-checked so that corrupt or truncated input
/// becomes a <see cref="TokenizerFormatException"/> naming the file and field instead of an index error.
/// </summary>
internal sealed class ProtoReader
{
    public const int WireVarint = 0;
    public const int WireFixed64 = 1;
    public const int WireLengthDelimited = 2;
    public const int WireStartGroup = 3;
    public const int WireEndGroup = 4;
    public const int WireFixed32 = 5;

    private static readonly UTF8Encoding StrictUtf8 = new(encoderShouldEmitUTF8Identifier: false, throwOnInvalidBytes: true);

    private readonly byte[] _data;
    private readonly int _end;
    private readonly string _source;
    private readonly string _message;
    private int _position;

    public ProtoReader(byte[] data, int start, int end, string source, string message)
    {
        _data = data;
        _position = start;
        _end = end;
        _source = source;
        _message = message;
    }

    public bool AtEnd => _position >= _end;

    public string Message => _message;

    /// <summary>Reads the next field key; returns false at the end of the message.</summary>
    public bool TryReadKey(out int fieldNumber, out int wireType)
    {
        if (AtEnd)
        {
            fieldNumber = 0;
            wireType = 0;
            return false;
        }

        ulong key = ReadVarint("key");
        wireType = (int)(key & 7);
        ulong number = key >> 3;
        if (number == 0 || number > int.MaxValue)
        {
            throw Error("key", $"invalid field number {number}");
        }

        fieldNumber = (int)number;
        return true;
    }

    public ulong ReadVarint(string field)
    {
        ulong result = 0;
        for (int shift = 0; shift < 70; shift += 7)
        {
            if (_position >= _end)
            {
                throw Error(field, "truncated varint");
            }

            byte b = _data[_position++];
            result |= (ulong)(b & 0x7F) << shift;
            if ((b & 0x80) == 0)
            {
                return result;
            }
        }

        throw Error(field, "varint longer than 10 bytes");
    }

    // int32 fields are sign-extended to 64 bits on the wire, so negative values (e.g. pad_id = -1) arrive as
    // 10-byte varints and are truncated back to 32 bits as protobuf itself does.
    public int ReadInt32(string field) => unchecked((int)ReadVarint(field));

    public bool ReadBool(string field) => ReadVarint(field) != 0;

    public float ReadFloat(string field)
    {
        if (_end - _position < 4)
        {
            throw Error(field, "truncated fixed32");
        }

        float value = BinaryPrimitives.ReadSingleLittleEndian(_data.AsSpan(_position, 4));
        _position += 4;
        return value;
    }

    /// <summary>Reads a length-delimited field and returns its byte range.</summary>
    public (int Start, int End) ReadLengthDelimited(string field)
    {
        ulong length = ReadVarint(field);
        if (length > (ulong)(_end - _position))
        {
            throw Error(field, $"length {length} runs past the end of the enclosing message ({_end - _position} bytes left)");
        }

        int start = _position;
        _position += (int)length;
        return (start, _position);
    }

    public byte[] ReadBytes(string field)
    {
        var (start, end) = ReadLengthDelimited(field);
        return _data.AsSpan(start, end - start).ToArray();
    }

    public string ReadString(string field)
    {
        var (start, end) = ReadLengthDelimited(field);
        try
        {
            return StrictUtf8.GetString(_data, start, end - start);
        }
        catch (DecoderFallbackException ex)
        {
            throw Error(field, "string is not valid UTF-8", ex);
        }
    }

    public ProtoReader ReadMessage(string field, string message)
    {
        var (start, end) = ReadLengthDelimited(field);
        return new ProtoReader(_data, start, end, _source, message);
    }

    public void ExpectWireType(int wireType, int expected, string field)
    {
        if (wireType != expected)
        {
            throw Error(field, $"wire type {wireType}, expected {expected}");
        }
    }

    public void SkipField(int fieldNumber, int wireType)
    {
        string field = $"field {fieldNumber}";
        switch (wireType)
        {
            case WireVarint:
                ReadVarint(field);
                break;
            case WireFixed64:
                Advance(8, field);
                break;
            case WireLengthDelimited:
                ReadLengthDelimited(field);
                break;
            case WireFixed32:
                Advance(4, field);
                break;
            case WireStartGroup:
                SkipGroup(fieldNumber);
                break;
            default:
                throw Error(field, $"unexpected wire type {wireType}");
        }
    }

    public TokenizerFormatException Error(string field, string detail, Exception? inner = null) =>
        new(_source, $"{_message}.{field}", detail, inner);

    private void SkipGroup(int groupNumber)
    {
        while (true)
        {
            if (!TryReadKey(out int number, out int wireType))
            {
                throw Error($"field {groupNumber}", "unterminated group");
            }

            if (wireType == WireEndGroup)
            {
                if (number != groupNumber)
                {
                    throw Error($"field {groupNumber}", $"group closed by field {number}");
                }

                return;
            }

            SkipField(number, wireType);
        }
    }

    private void Advance(int count, string field)
    {
        if (_end - _position < count)
        {
            throw Error(field, $"truncated: needs {count} bytes, {_end - _position} left");
        }

        _position += count;
    }
}
