using System.Buffers.Binary;

namespace GpuTransformer.Tokenizer;

/// <summary>
/// Read-only view of a darts-clone double-array trie as stored in SentencePiece's precompiled charsmap. Each unit
/// is a little-endian uint32 packing a label, a leaf flag and an offset to the children; out-of-range positions
/// (only possible in a corrupt blob) end the search instead of reading outside the array.
/// </summary>
internal sealed class DoubleArrayTrie
{
    private readonly uint[] _units;

    public DoubleArrayTrie(ReadOnlySpan<byte> blob)
    {
        _units = new uint[blob.Length / 4];
        for (int i = 0; i < _units.Length; i++)
        {
            _units[i] = BinaryPrimitives.ReadUInt32LittleEndian(blob.Slice(i * 4, 4));
        }
    }

    /// <summary>
    /// Finds the longest key that is a prefix of <paramref name="key"/>; returns its length (0 when none) and value.
    /// </summary>
    public int LongestPrefix(ReadOnlySpan<byte> key, out int value)
    {
        value = 0;
        int longest = 0;
        if (_units.Length == 0)
        {
            return 0;
        }

        uint nodePos = Offset(_units[0]);
        for (int i = 0; i < key.Length; i++)
        {
            nodePos ^= key[i];
            if (nodePos >= (uint)_units.Length)
            {
                break;
            }

            uint unit = _units[nodePos];
            if (Label(unit) != key[i])
            {
                break;
            }

            nodePos ^= Offset(unit);
            if (HasLeaf(unit))
            {
                if (nodePos >= (uint)_units.Length)
                {
                    break;
                }

                longest = i + 1;
                value = (int)(_units[nodePos] & 0x7FFFFFFFu);
            }
        }

        return longest;
    }

    /// <summary>
    /// Finds the shortest key that is a prefix of <paramref name="key"/> (the first result of Darts'
    /// <c>commonPrefixSearch</c>); returns its length (0 when none) and value.
    /// </summary>
    public int ShortestPrefix(ReadOnlySpan<byte> key, out int value)
    {
        value = 0;
        if (_units.Length == 0)
        {
            return 0;
        }

        uint nodePos = Offset(_units[0]);
        for (int i = 0; i < key.Length; i++)
        {
            nodePos ^= key[i];
            if (nodePos >= (uint)_units.Length)
            {
                return 0;
            }

            uint unit = _units[nodePos];
            if (Label(unit) != key[i])
            {
                return 0;
            }

            nodePos ^= Offset(unit);
            if (HasLeaf(unit) && nodePos < (uint)_units.Length)
            {
                value = (int)(_units[nodePos] & 0x7FFFFFFFu);
                return i + 1;
            }
        }

        return 0;
    }

    private static bool HasLeaf(uint unit) => ((unit >> 8) & 1) == 1;

    private static uint Label(uint unit) => unit & ((1u << 31) | 0xFFu);

    private static uint Offset(uint unit) => (unit >> 10) << (int)((unit & (1u << 9)) >> 6);
}
