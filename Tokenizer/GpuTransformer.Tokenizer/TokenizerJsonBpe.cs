using System.Collections.Concurrent;
using System.Globalization;
using System.Text;
using System.Text.Json;

namespace GpuTransformer.Tokenizer;

/// <summary>
/// The <c>BPE</c> model of a SentencePiece-style <c>tokenizer.json</c> (NLLB fast tokenizer: Metaspace
/// pre-tokenizer, no byte-level mapping) with the semantics of <c>tokenizers</c> 0.19
/// (<c>models/bpe/model.rs</c> <c>merge_word</c> and <c>word.rs</c> <c>merge_all</c>): a pre-tokenized word is split
/// into Unicode characters, a character outside the vocabulary becomes its <c>&lt;0xNN&gt;</c> byte tokens
/// (<c>byte_fallback</c>) or the unknown token (runs of them fused into one with <c>fuse_unk</c>), then the adjacent
/// pair of lowest merge rank, leftmost first, is merged until no pair is in the merge table.
/// </summary>
/// <remarks>
/// Unlike <see cref="SentencePieceModel"/>'s BPE, which merges by piece score, this merges by the rank the file
/// lists; transformers' <c>SentencePieceExtractor</c> orders the ranks by the merged piece's id, which is why the
/// fast NLLB tokenizer can segment differently from the slow one.
/// </remarks>
internal sealed class TokenizerJsonBpe
{
    /// <summary>tokenizers' default cache capacity; beyond it words are merged again each time.</summary>
    private const int CacheCapacity = 10_000;

    private readonly Dictionary<(string, string), (int Rank, string Merged)> _merges = [];
    private readonly ConcurrentDictionary<string, string[]> _cache = new(StringComparer.Ordinal);
    private readonly string? _unkToken;
    private readonly bool _fuseUnk;
    private readonly bool _byteFallback;
    private readonly bool _ignoreMerges;

    /// <summary>Reads <c>model</c> of a <c>tokenizer.json</c> whose type is <c>BPE</c>.</summary>
    /// <param name="model">The <c>model</c> object.</param>
    /// <param name="path">The file, for errors.</param>
    /// <exception cref="TokenizerFormatException">A field is malformed, a merge names a token that is not in the
    /// vocabulary, or the file uses an option this class does not implement.</exception>
    public TokenizerJsonBpe(JsonElement model, string path)
    {
        Vocab = TokenizerJsonTokenizer.ReadVocab(Required(model, "vocab", path), path);

        // SentencePiece-style BPE has neither; WordPiece-like BPE (subword prefixes, "</w>" suffixes) would also
        // need decoders this pipeline does not have. An empty string behaves as null in tokenizers.
        foreach (string name in (ReadOnlySpan<string>)["continuing_subword_prefix", "end_of_word_suffix"])
        {
            if (model.TryGetProperty(name, out JsonElement value) && value.ValueKind != JsonValueKind.Null
                && !(value.ValueKind == JsonValueKind.String && value.GetString()!.Length == 0))
            {
                throw new TokenizerFormatException(path, $"model.{name}", $"{value.GetRawText()} is not supported (only null, as SentencePiece-style BPE writes it)");
            }
        }

        // Dropout makes the segmentation random; 0 never skips a merge, so it is the same as null.
        if (model.TryGetProperty("dropout", out JsonElement dropout) && dropout.ValueKind != JsonValueKind.Null
            && !(dropout.TryGetDouble(out double p) && p == 0))
        {
            throw new TokenizerFormatException(path, "model.dropout", $"{dropout.GetRawText()} is not supported (random merges cannot reproduce a reference); only null or 0");
        }

        _fuseUnk = Flag(model, "fuse_unk", path);
        _byteFallback = Flag(model, "byte_fallback", path);
        _ignoreMerges = Flag(model, "ignore_merges", path);
        if (model.TryGetProperty("unk_token", out JsonElement unk) && unk.ValueKind != JsonValueKind.Null)
        {
            _unkToken = unk.ValueKind == JsonValueKind.String && Vocab.ContainsKey(unk.GetString()!)
                ? unk.GetString()!
                : throw new TokenizerFormatException(path, "model.unk_token", $"{unk.GetRawText()} is not a token of model.vocab");
        }

        // As BpeBuilder::build: every merge's two parts and their concatenation must be tokens; a pair listed twice
        // keeps the later rank (the HashMap insert overwrites).
        var merges = TokenizerJsonTokenizer.ReadMerges(Required(model, "merges", path), path);
        for (int rank = 0; rank < merges.Count; rank++)
        {
            var (first, second) = merges[rank];
            string merged = first + second;
            foreach (string token in (ReadOnlySpan<string>)[first, second, merged])
            {
                if (!Vocab.ContainsKey(token))
                {
                    throw new TokenizerFormatException(path, $"model.merges[{rank}]", $"'{token}' is not a token of model.vocab");
                }
            }

            _merges[(first, second)] = (rank, merged);
        }
    }

    /// <summary>The vocabulary: token to id.</summary>
    public Dictionary<string, int> Vocab { get; }

    /// <summary>The id of the unknown token, or null when the model has none (unknown characters are then dropped).</summary>
    public int? UnkId => _unkToken is null ? null : Vocab[_unkToken];

    /// <summary>The tokens of one pre-tokenized word (tokenizers' <c>tokenize_with_cache</c>).</summary>
    public IReadOnlyList<string> Tokenize(string word)
    {
        if (word.Length == 0)
        {
            return [];
        }

        if (_cache.TryGetValue(word, out string[]? hit))
        {
            return hit;
        }

        if (_ignoreMerges && Vocab.ContainsKey(word))
        {
            return [word];
        }

        string[] tokens = Merge(Split(word));
        if (_cache.Count < CacheCapacity)
        {
            _cache.TryAdd(word, tokens);
        }

        return tokens;
    }

    /// <summary><c>merge_word</c>'s first half: one symbol per character, byte fallback, (fused) unknowns.</summary>
    private List<string> Split(string word)
    {
        var symbols = new List<string>(word.Length);
        bool pendingUnk = false;
        foreach (Rune rune in word.EnumerateRunes())
        {
            string s = rune.ToString();
            if (Vocab.ContainsKey(s))
            {
                FlushUnk();
                symbols.Add(s);
                continue;
            }

            if (_byteFallback)
            {
                var bytes = Encoding.UTF8.GetBytes(s).Select(b => string.Create(CultureInfo.InvariantCulture, $"<0x{b:X2}>")).ToArray();
                if (bytes.All(Vocab.ContainsKey))
                {
                    // A byte token does not end a pending unknown run: tokenizers adds the run only before the next
                    // character found in the vocabulary (or at the end), so it lands after these bytes.
                    symbols.AddRange(bytes);
                    continue;
                }
            }

            if (_unkToken is not null)
            {
                if (pendingUnk && !_fuseUnk)
                {
                    symbols.Add(_unkToken);
                }

                pendingUnk = true;
            }
        }

        FlushUnk();
        return symbols;

        void FlushUnk()
        {
            if (pendingUnk)
            {
                symbols.Add(_unkToken!);
                pendingUnk = false;
            }
        }
    }

    /// <summary>
    /// <c>Word::merge_all</c> without dropout: its heap pops the pair of lowest rank, ties by leftmost position, and
    /// skips entries a previous merge made stale, which is the same as rescanning for the best pair each round.
    /// </summary>
    private string[] Merge(List<string> symbols)
    {
        while (symbols.Count > 1)
        {
            int best = -1;
            (int Rank, string Merged) bestMerge = (int.MaxValue, string.Empty);
            for (int i = 0; i + 1 < symbols.Count; i++)
            {
                if (_merges.TryGetValue((symbols[i], symbols[i + 1]), out var merge) && merge.Rank < bestMerge.Rank)
                {
                    best = i;
                    bestMerge = merge;
                }
            }

            if (best < 0)
            {
                break;
            }

            symbols[best] = bestMerge.Merged;
            symbols.RemoveAt(best + 1);
        }

        return [.. symbols];
    }

    private static JsonElement Required(JsonElement model, string name, string path) =>
        model.TryGetProperty(name, out JsonElement value) && value.ValueKind != JsonValueKind.Null
            ? value
            : throw new TokenizerFormatException(path, $"model.{name}", "missing");

    private static bool Flag(JsonElement model, string name, string path)
    {
        if (!model.TryGetProperty(name, out JsonElement value) || value.ValueKind == JsonValueKind.Null)
        {
            return false;
        }

        return value.ValueKind is JsonValueKind.True or JsonValueKind.False
            ? value.GetBoolean()
            : throw new TokenizerFormatException(path, $"model.{name}", $"expected true or false, found {value.GetRawText()}");
    }
}
