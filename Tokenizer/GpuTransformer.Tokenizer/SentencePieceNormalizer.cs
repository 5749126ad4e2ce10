using System.Buffers.Binary;

namespace GpuTransformer.Tokenizer;

/// <summary>
/// SentencePiece's normalizer, over UTF-8 bytes exactly as the library works: longest-prefix rewrite through the
/// precompiled charsmap, then whitespace folding, dummy prefix and escaping of spaces as U+2581. Whitespace
/// handling looks only at ' ' in the rewritten output because the charsmap has already mapped tabs, NBSP etc.
/// </summary>
internal sealed class SentencePieceNormalizer
{
    private readonly NormalizerSpecData _spec;
    private readonly bool _treatWhitespaceAsSuffix;
    private readonly DoubleArrayTrie? _trie;
    private readonly byte[] _pool = [];
    private readonly PieceTrie? _userDefined;
    private readonly string _source;

    public SentencePieceNormalizer(NormalizerSpecData spec, bool treatWhitespaceAsSuffix, PieceTrie? userDefined, string source, string field)
    {
        _spec = spec;
        _treatWhitespaceAsSuffix = treatWhitespaceAsSuffix;
        _userDefined = userDefined is { Count: > 0 } ? userDefined : null;
        _source = source;
        byte[] blob = spec.PrecompiledCharsMap;
        if (blob.Length == 0)
        {
            return;
        }

        // Layout: uint32 trie size in bytes, the double-array units, then the NUL-separated replacement strings.
        if (blob.Length <= 4)
        {
            throw new TokenizerFormatException(source, field, "precompiled charsmap is too short");
        }

        uint trieSize = BinaryPrimitives.ReadUInt32LittleEndian(blob);
        if (trieSize >= (uint)blob.Length - 4 + 1 || trieSize % 4 != 0)
        {
            throw new TokenizerFormatException(source, field, $"trie size {trieSize} does not fit the {blob.Length}-byte charsmap");
        }

        _trie = new DoubleArrayTrie(blob.AsSpan(4, (int)trieSize));
        _pool = blob.AsSpan(4 + (int)trieSize).ToArray();
    }

    /// <summary>Normalizes UTF-8 input; the result is what the segmenter sees.</summary>
    public byte[] Normalize(ReadOnlySpan<byte> input)
    {
        if (input.IsEmpty)
        {
            return [];
        }

        int pos = 0;
        if (_spec.RemoveExtraWhitespaces)
        {
            while (pos < input.Length)
            {
                int consumed = NormalizePrefix(input[pos..], out ReadOnlySpan<byte> piece);
                if (!(piece.Length == 1 && piece[0] == (byte)' '))
                {
                    break;
                }

                pos += consumed;
            }
        }

        if (pos == input.Length)
        {
            return [];
        }

        var output = new ByteBuilder(input.Length * 3);
        if (!_treatWhitespaceAsSuffix && _spec.AddDummyPrefix)
        {
            AppendSpace(output);
        }

        bool isPrevSpace = _spec.RemoveExtraWhitespaces;
        while (pos < input.Length)
        {
            int consumed = NormalizePrefix(input[pos..], out ReadOnlySpan<byte> sp);
            while (isPrevSpace && sp.Length > 0 && sp[0] == (byte)' ')
            {
                sp = sp[1..];
            }

            if (!sp.IsEmpty)
            {
                foreach (byte b in sp)
                {
                    if (_spec.EscapeWhitespaces && b == (byte)' ')
                    {
                        output.Append(Utf8Util.SpaceSymbol);
                    }
                    else
                    {
                        output.Append(b);
                    }
                }

                isPrevSpace = sp[^1] == (byte)' ';
            }

            pos += consumed;
            if (!_spec.RemoveExtraWhitespaces)
            {
                isPrevSpace = false;
            }
        }

        if (_spec.RemoveExtraWhitespaces)
        {
            ReadOnlySpan<byte> space = _spec.EscapeWhitespaces ? Utf8Util.SpaceSymbol : " "u8;
            while (output.EndsWith(space))
            {
                output.Truncate(output.Length - space.Length);
            }
        }

        if (_treatWhitespaceAsSuffix && _spec.AddDummyPrefix)
        {
            AppendSpace(output);
        }

        return output.ToArray();
    }

    private void AppendSpace(ByteBuilder output)
    {
        if (_spec.EscapeWhitespaces)
        {
            output.Append(Utf8Util.SpaceSymbol);
        }
        else
        {
            output.Append((byte)' ');
        }
    }

    /// <summary>
    /// The <c>tokenizers</c> library's <c>Precompiled::transform</c>: the replacement of the shortest charsmap key
    /// that is a prefix of <paramref name="chunk"/>, which then stands for the whole chunk (a grapheme or one
    /// character); false when no key matches.
    /// </summary>
    public bool TryTransform(ReadOnlySpan<byte> chunk, out ReadOnlySpan<byte> replacement)
    {
        replacement = default;
        if (_trie is null || _trie.ShortestPrefix(chunk, out int value) == 0)
        {
            return false;
        }

        if ((uint)value >= (uint)_pool.Length)
        {
            throw new TokenizerFormatException(_source, "normalizer.precompiled_charsmap", $"replacement offset {value} is outside the {_pool.Length}-byte string pool");
        }

        ReadOnlySpan<byte> rest = _pool.AsSpan(value);
        int nul = rest.IndexOf((byte)0);
        replacement = nul >= 0 ? rest[..nul] : rest;
        return true;
    }

    /// <summary>Rewrites the first unit of <paramref name="input"/>; returns how many input bytes it consumed.</summary>
    private int NormalizePrefix(ReadOnlySpan<byte> input, out ReadOnlySpan<byte> replacement)
    {
        // User-defined symbols are matched before normalization so that they survive it verbatim.
        if (_userDefined is not null)
        {
            int userLength = _userDefined.LongestPrefix(input);
            if (userLength > 0)
            {
                replacement = input[..userLength];
                return userLength;
            }
        }

        if (_trie is not null)
        {
            int length = _trie.LongestPrefix(input, out int value);
            if (length > 0)
            {
                if ((uint)value >= (uint)_pool.Length)
                {
                    throw new TokenizerFormatException(_source, "normalizer_spec.precompiled_charsmap",
                        $"replacement offset {value} is outside the {_pool.Length}-byte string pool");
                }

                ReadOnlySpan<byte> rest = _pool.AsSpan(value);
                int nul = rest.IndexOf((byte)0);
                replacement = nul >= 0 ? rest[..nul] : rest;
                return length;
            }
        }

        if (!Utf8Util.IsValidPrefix(input, out int charLength))
        {
            replacement = Utf8Util.ReplacementCharacter;
            return 1;
        }

        replacement = input[..charLength];
        return charLength;
    }
}
