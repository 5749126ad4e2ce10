using System.Text;

namespace GpuTransformer.Tokenizer;

/// <summary>UTF-8 helpers that reproduce SentencePiece's own (lenient) decoding rules byte for byte.</summary>
internal static class Utf8Util
{
    public static ReadOnlySpan<byte> ReplacementCharacter => [0xEF, 0xBF, 0xBD];

    public static ReadOnlySpan<byte> SpaceSymbol => [0xE2, 0x96, 0x81];

    private static readonly UTF8Encoding StrictUtf8 = new(encoderShouldEmitUTF8Identifier: false, throwOnInvalidBytes: true);

    /// <summary>Length of a UTF-8 character judged from its lead byte only, as SentencePiece's <c>OneCharLen</c>.</summary>
    public static int OneCharLength(byte lead) => (lead >> 4) switch
    {
        < 12 => 1,
        12 or 13 => 2,
        14 => 3,
        _ => 4,
    };

    /// <summary>
    /// Whether the input starts with a well-formed UTF-8 character; <paramref name="length"/> is its length, or 1
    /// for a malformed byte. A literal U+FFFD counts as valid, as in SentencePiece's <c>IsValidDecodeUTF8</c>.
    /// </summary>
    public static bool IsValidPrefix(ReadOnlySpan<byte> s, out int length)
    {
        length = 1;
        int len = s.Length;
        byte b0 = s[0];
        if (b0 < 0x80)
        {
            return true;
        }

        if (len >= 2 && (b0 & 0xE0) == 0xC0)
        {
            int cp = ((b0 & 0x1F) << 6) | (s[1] & 0x3F);
            if (IsTrail(s[1]) && cp >= 0x80 && IsValidCodepoint(cp))
            {
                length = 2;
                return true;
            }
        }
        else if (len >= 3 && (b0 & 0xF0) == 0xE0)
        {
            int cp = ((b0 & 0x0F) << 12) | ((s[1] & 0x3F) << 6) | (s[2] & 0x3F);
            if (IsTrail(s[1]) && IsTrail(s[2]) && cp >= 0x800 && IsValidCodepoint(cp))
            {
                length = 3;
                return true;
            }
        }
        else if (len >= 4 && (b0 & 0xF8) == 0xF0)
        {
            int cp = ((b0 & 0x07) << 18) | ((s[1] & 0x3F) << 12) | ((s[2] & 0x3F) << 6) | (s[3] & 0x3F);
            if (IsTrail(s[1]) && IsTrail(s[2]) && IsTrail(s[3]) && cp >= 0x10000 && IsValidCodepoint(cp))
            {
                length = 4;
                return true;
            }
        }

        return false;
    }

    /// <summary>
    /// Converts text to UTF-8, rejecting lone surrogates: silently replacing them would tokenize something the
    /// caller never wrote.
    /// </summary>
    /// <exception cref="ArgumentException">The text contains an unpaired surrogate.</exception>
    public static byte[] ToUtf8(string text, string paramName)
    {
        ValidateUtf16(text, paramName);
        return Encoding.UTF8.GetBytes(text);
    }

    /// <summary>Throws <see cref="ArgumentException"/> naming the index of the first unpaired surrogate.</summary>
    public static void ValidateUtf16(string text, string paramName)
    {
        for (int i = 0; i < text.Length; i++)
        {
            char c = text[i];
            if (char.IsHighSurrogate(c))
            {
                if (i + 1 < text.Length && char.IsLowSurrogate(text[i + 1]))
                {
                    i++;
                    continue;
                }

                throw new ArgumentException(
                    $"The text is not valid UTF-16: unpaired high surrogate U+{(int)c:X4} at character index {i}.", paramName);
            }

            if (char.IsLowSurrogate(c))
            {
                throw new ArgumentException(
                    $"The text is not valid UTF-16: unpaired low surrogate U+{(int)c:X4} at character index {i}.", paramName);
            }
        }
    }

    public static string GetString(ReadOnlySpan<byte> utf8) => Encoding.UTF8.GetString(utf8);

    public static bool TryGetStrictString(ReadOnlySpan<byte> utf8, out string text)
    {
        try
        {
            text = StrictUtf8.GetString(utf8);
            return true;
        }
        catch (DecoderFallbackException)
        {
            text = string.Empty;
            return false;
        }
    }

    private static bool IsTrail(byte b) => (b & 0xC0) == 0x80;

    private static bool IsValidCodepoint(int cp) => cp < 0xD800 || (cp >= 0xE000 && cp <= 0x10FFFF);
}
