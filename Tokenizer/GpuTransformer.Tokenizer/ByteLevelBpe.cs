using System.Collections.Concurrent;
using System.Globalization;
using System.Text;

namespace GpuTransformer.Tokenizer;

/// <summary>
/// GPT-2 / RoBERTa / BART byte-level BPE as the slow Hugging Face tokenizers run it: the GPT-2 pre-tokenizer
/// pattern, bytes mapped to printable characters (<c>bytes_to_unicode</c>), merges applied by rank with a cache.
/// </summary>
internal sealed class ByteLevelBpe
{
    private static readonly char[] ByteToChar = BuildByteToChar();
    private static readonly Dictionary<char, byte> CharToByte = BuildCharToByte();

    private readonly Dictionary<(string, string), int> _ranks = [];
    private readonly ConcurrentDictionary<string, string[]> _cache = new(StringComparer.Ordinal);

    public ByteLevelBpe(string mergesPath)
    {
        if (!File.Exists(mergesPath))
        {
            throw new FileNotFoundException($"BPE merges file '{mergesPath}' does not exist.", mergesPath);
        }

        // As BartTokenizer: read().split("\n")[1:-1], i.e. the first line (#version) and the last (empty) are
        // dropped; every other line is "first second".
        string[] lines = File.ReadAllText(mergesPath, Encoding.UTF8).Split('\n');
        for (int i = 1; i < lines.Length - 1; i++)
        {
            string[] parts = lines[i].Split((char[]?)null, StringSplitOptions.RemoveEmptyEntries);
            if (parts.Length == 0)
            {
                continue;
            }

            if (parts.Length != 2)
            {
                throw new TokenizerFormatException(mergesPath, $"line {i + 1}", $"expected two symbols separated by a space, found '{lines[i]}'");
            }

            _ranks.TryAdd((parts[0], parts[1]), i - 1);
        }
    }

    /// <summary>Merges given as pairs in rank order (a <c>tokenizer.json</c> BPE model).</summary>
    public ByteLevelBpe(IEnumerable<(string First, string Second)> merges)
    {
        int rank = 0;
        foreach (var pair in merges)
        {
            _ranks.TryAdd(pair, rank++);
        }
    }

    /// <summary>Maps UTF-8 bytes to the printable stand-ins the vocabulary is written in.</summary>
    public static string BytesToSymbols(ReadOnlySpan<byte> bytes)
    {
        var chars = new char[bytes.Length];
        for (int i = 0; i < bytes.Length; i++)
        {
            chars[i] = ByteToChar[bytes[i]];
        }

        return new string(chars);
    }

    /// <summary>Turns joined tokens back into text; bytes that are not valid UTF-8 become U+FFFD (errors="replace").</summary>
    public static string SymbolsToText(string symbols)
    {
        var bytes = new List<byte>(symbols.Length);
        foreach (char c in symbols)
        {
            if (CharToByte.TryGetValue(c, out byte b))
            {
                bytes.Add(b);
            }
            else
            {
                // Not a byte stand-in (an added token with other characters): keep its UTF-8 bytes.
                bytes.AddRange(Encoding.UTF8.GetBytes(c.ToString()));
            }
        }

        return Encoding.UTF8.GetString([.. bytes]);
    }

    /// <summary>Appends the BPE tokens of a text chunk (HF's <c>_tokenize</c>).</summary>
    public void Tokenize(string text, List<string> tokens)
    {
        foreach (var (start, length) in PreTokenize(text))
        {
            string word = BytesToSymbols(Encoding.UTF8.GetBytes(text.Substring(start, length)));
            tokens.AddRange(_cache.GetOrAdd(word, Merge));
        }
    }

    /// <summary>
    /// The matches of <c>'s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+</c> as Python's
    /// <c>regex</c> finds them, over code points (so letters outside the BMP count as letters, which .NET's
    /// UTF-16 regex would miss).
    /// </summary>
    internal static List<(int Start, int Length)> PreTokenize(string text)
    {
        var matches = new List<(int, int)>();
        int pos = 0;
        while (pos < text.Length)
        {
            int end = MatchAt(text, pos);
            matches.Add((pos, end - pos));
            pos = end;
        }

        return matches;
    }

    private static int MatchAt(string text, int pos)
    {
        if (text[pos] == '\'')
        {
            foreach (string suffix in (ReadOnlySpan<string>)["s", "t", "re", "ve", "m", "ll", "d"])
            {
                if (string.CompareOrdinal(text, pos + 1, suffix, 0, suffix.Length) == 0 && pos + 1 + suffix.Length <= text.Length)
                {
                    return pos + 1 + suffix.Length;
                }
            }
        }

        CharClass first = ClassAt(text, pos, out int firstLength);
        int afterSpace = pos;
        CharClass cls = first;
        if (text[pos] == ' ' && pos + 1 < text.Length)
        {
            CharClass next = ClassAt(text, pos + 1, out _);
            if (next != CharClass.Space)
            {
                afterSpace = pos + 1;
                cls = next;
            }
        }

        if (cls != CharClass.Space)
        {
            int end = afterSpace;
            while (end < text.Length && ClassAt(text, end, out int length) == cls)
            {
                end += length;
            }

            return end;
        }

        // \s+(?!\S): a whitespace run, giving back its last character when a non-space follows; then \s+.
        int runEnd = pos;
        while (runEnd < text.Length && ClassAt(text, runEnd, out int length) == CharClass.Space)
        {
            runEnd += length;
        }

        if (runEnd == text.Length || runEnd - pos == firstLength)
        {
            return runEnd;
        }

        return runEnd - 1;
    }

    private enum CharClass
    {
        Letter,
        Number,
        Space,
        Other,
    }

    private static CharClass ClassAt(string text, int index, out int length)
    {
        Rune.DecodeFromUtf16(text.AsSpan(index), out Rune rune, out length);
        if (IsPythonRegexSpace(rune.Value))
        {
            return CharClass.Space;
        }

        return Rune.GetUnicodeCategory(rune) switch
        {
            UnicodeCategory.UppercaseLetter or UnicodeCategory.LowercaseLetter or UnicodeCategory.TitlecaseLetter
                or UnicodeCategory.ModifierLetter or UnicodeCategory.OtherLetter => CharClass.Letter,
            UnicodeCategory.DecimalDigitNumber or UnicodeCategory.LetterNumber or UnicodeCategory.OtherNumber => CharClass.Number,
            _ => CharClass.Other,
        };
    }

    // The White_Space property, which is what the regex module's \s matches in a str pattern.
    private static bool IsPythonRegexSpace(int c) =>
        c is >= 0x09 and <= 0x0D or 0x20 or 0x85 or 0xA0 or 0x1680 or (>= 0x2000 and <= 0x200A) or 0x2028 or 0x2029 or 0x202F or 0x205F or 0x3000;

    private string[] Merge(string token)
    {
        var word = new List<string>(token.Length);
        foreach (char c in token)
        {
            word.Add(c.ToString());
        }

        if (word.Count < 2)
        {
            return [.. word];
        }

        while (true)
        {
            // The pair with the lowest rank; ties cannot happen because a pair has one rank.
            int bestRank = int.MaxValue;
            (string, string) best = default;
            for (int i = 0; i + 1 < word.Count; i++)
            {
                if (_ranks.TryGetValue((word[i], word[i + 1]), out int rank) && rank < bestRank)
                {
                    bestRank = rank;
                    best = (word[i], word[i + 1]);
                }
            }

            if (bestRank == int.MaxValue)
            {
                break;
            }

            // Merge every non-overlapping occurrence, left to right, as the Python loop does.
            var merged = new List<string>(word.Count);
            for (int i = 0; i < word.Count;)
            {
                if (i + 1 < word.Count && word[i] == best.Item1 && word[i + 1] == best.Item2)
                {
                    merged.Add(best.Item1 + best.Item2);
                    i += 2;
                }
                else
                {
                    merged.Add(word[i]);
                    i++;
                }
            }

            word = merged;
            if (word.Count == 1)
            {
                break;
            }
        }

        return [.. word];
    }

    private static char[] BuildByteToChar()
    {
        var map = new char[256];
        var printable = new bool[256];
        for (int b = '!'; b <= '~'; b++)
        {
            printable[b] = true;
        }

        for (int b = 0xA1; b <= 0xAC; b++)
        {
            printable[b] = true;
        }

        for (int b = 0xAE; b <= 0xFF; b++)
        {
            printable[b] = true;
        }

        int n = 0;
        for (int b = 0; b < 256; b++)
        {
            map[b] = printable[b] ? (char)b : (char)(256 + n++);
        }

        return map;
    }

    private static Dictionary<char, byte> BuildCharToByte()
    {
        var map = new Dictionary<char, byte>(256);
        for (int b = 0; b < 256; b++)
        {
            map[ByteToChar[b]] = (byte)b;
        }

        return map;
    }
}
