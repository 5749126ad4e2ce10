using System.Globalization;
using System.Text;
using System.Text.Json;
using System.Text.RegularExpressions;

namespace GpuTransformer.Tokenizer;

/// <summary>
/// The SentencePiece-style part of a fast tokenizer (<c>tokenizer.json</c> with a <c>Unigram</c> or a Metaspace-style
/// <c>BPE</c> model): normalizer, pre-tokenizer, model and decoder with the semantics of the <c>tokenizers</c> library
/// 0.19, as transformers' <c>convert_slow_tokenizer</c> assembles them for T5, mBART, NLLB and Pegasus. The segmenter
/// of a Unigram model is the sentencepiece unigram Viterbi of <see cref="SentencePieceModel"/> over the pre-tokenized
/// words; of a BPE model (NLLB) the rank-ordered merges of <see cref="TokenizerJsonBpe"/>.
/// </summary>
internal sealed class TokenizerJsonPipeline
{
    private const char Replacement = '\u2581';

    private readonly List<Func<string, string>> _normalizers = [];
    private readonly List<Func<List<(string Text, bool AtStart)>, List<(string Text, bool AtStart)>>> _preTokenizers = [];
    private readonly List<Func<List<string>, List<string>>> _decoders = [];
    private readonly SentencePieceModel? _model;
    private readonly TokenizerJsonBpe? _bpe;
    private readonly string _path;

    public TokenizerJsonPipeline(JsonElement root, string path, IReadOnlySet<string> specialTokens)
    {
        _path = path;
        JsonElement model = root.GetProperty("model");
        if (model.TryGetProperty("type", out JsonElement type) && type.ValueKind == JsonValueKind.String && type.GetString() == "BPE")
        {
            _bpe = new TokenizerJsonBpe(model, path);
            Vocab = _bpe.Vocab;
            UnkId = _bpe.UnkId;
            foreach (var (token, id) in Vocab)
            {
                IdToToken[id] = token;
            }
        }
        else
        {
            List<string> pieces;
            (_model, Vocab, pieces, UnkId) = ReadUnigram(model, path, specialTokens);
            for (int id = 0; id < pieces.Count; id++)
            {
                IdToToken[id] = pieces[id];
            }
        }

        if (root.TryGetProperty("normalizer", out JsonElement normalizer) && normalizer.ValueKind != JsonValueKind.Null)
        {
            AddNormalizer(normalizer, "normalizer");
        }

        if (root.TryGetProperty("pre_tokenizer", out JsonElement pre) && pre.ValueKind != JsonValueKind.Null)
        {
            AddPreTokenizer(pre, "pre_tokenizer");
        }

        if (root.TryGetProperty("decoder", out JsonElement decoder) && decoder.ValueKind != JsonValueKind.Null)
        {
            AddDecoder(decoder, "decoder");
        }
    }

    /// <summary>The model's vocabulary: token to id.</summary>
    public Dictionary<string, int> Vocab { get; }

    /// <summary>The model's tokens by id (a Unigram piece listed twice keeps both ids here).</summary>
    public Dictionary<int, string> IdToToken { get; } = [];

    /// <summary>The model's unknown token id, or null when a BPE model has none.</summary>
    public int? UnkId { get; }

    /// <summary>
    /// Normalizes, pre-tokenizes and segments one stretch of text between added tokens; <paramref name="atStart"/>
    /// says whether it starts the input (Metaspace's <c>prepend_scheme: first</c>).
    /// </summary>
    public void Tokenize(string text, bool atStart, List<string> tokens)
    {
        foreach (var normalize in _normalizers)
        {
            text = normalize(text);
        }

        var words = new List<(string Text, bool AtStart)> { (text, atStart) };
        foreach (var preTokenize in _preTokenizers)
        {
            words = preTokenize(words);
        }

        foreach (var (word, _) in words)
        {
            if (word.Length > 0)
            {
                tokens.AddRange(_bpe is not null ? _bpe.Tokenize(word) : _model!.EncodeAsPieces(word));
            }
        }
    }

    /// <summary>The decoder chain over all tokens of a sequence (added tokens included), then concatenation.</summary>
    public string Decode(List<string> tokens)
    {
        var current = tokens;
        foreach (var decode in _decoders)
        {
            current = decode(current);
        }

        return string.Concat(current);
    }

    /// <summary>A <c>Unigram</c> model: the sentencepiece Viterbi over the JSON piece table.</summary>
    private static (SentencePieceModel Model, Dictionary<string, int> Vocab, List<string> Pieces, int UnkId) ReadUnigram(JsonElement model, string path, IReadOnlySet<string> specialTokens)
    {
        if (!model.TryGetProperty("vocab", out JsonElement vocab) || vocab.ValueKind != JsonValueKind.Array)
        {
            throw new TokenizerFormatException(path, "model.vocab", "expected an array of [piece, score] pairs");
        }

        bool byteFallback = model.TryGetProperty("byte_fallback", out JsonElement bf) && bf.ValueKind == JsonValueKind.True;
        int unkId = -1;
        if (model.TryGetProperty("unk_id", out JsonElement unk) && unk.ValueKind != JsonValueKind.Null && (!unk.TryGetInt32(out unkId) || unkId < 0 || unkId >= vocab.GetArrayLength()))
        {
            throw new TokenizerFormatException(path, "model.unk_id", $"expected an id inside model.vocab, found {unk.GetRawText()}");
        }

        if (unkId < 0)
        {
            throw new NotSupportedException($"'{path}': a Unigram model without unk_id is not supported.");
        }

        var vocabulary = new Dictionary<string, int>(StringComparer.Ordinal);
        var pieceList = new List<string>();
        var pieces = new List<(string, float, SentencePiecePieceType)>();
        float minScore = float.MaxValue;
        int i = 0;
        foreach (JsonElement entry in vocab.EnumerateArray())
        {
            if (entry.ValueKind != JsonValueKind.Array || entry.GetArrayLength() != 2 || entry[0].ValueKind != JsonValueKind.String
                || entry[0].GetString()!.Length == 0 || entry[1].ValueKind != JsonValueKind.Number || !entry[1].TryGetDouble(out double score))
            {
                throw new TokenizerFormatException(path, $"model.vocab[{i}]", $"expected [piece, score], found {entry.GetRawText()}");
            }

            string piece = entry[0].GetString()!;
            vocabulary[piece] = i;
            pieceList.Add(piece);

            // Special added tokens are cut out of the text before the model runs, so they stay out of its lattice.
            var type = i == unkId ? SentencePiecePieceType.Unknown
                : byteFallback && IsBytePiece(piece) ? SentencePiecePieceType.Byte
                : specialTokens.Contains(piece) ? SentencePiecePieceType.Control
                : SentencePiecePieceType.Normal;
            pieces.Add((piece, (float)score, type));
            minScore = Math.Min(minScore, (float)score);
            i++;
        }

        var segmenter = SentencePieceModel.FromPieces(SentencePieceModelProto.FromPieces(pieces, SentencePieceModelType.Unigram, byteFallback, unkId), path, minScore);
        return (segmenter, vocabulary, pieceList, unkId);
    }

    private static bool IsBytePiece(string piece) =>
        piece.Length == 6 && piece.StartsWith("<0x", StringComparison.Ordinal) && piece[5] == '>'
        && byte.TryParse(piece.AsSpan(3, 2), NumberStyles.AllowHexSpecifier, CultureInfo.InvariantCulture, out _);

    private static string TypeOf(JsonElement element) =>
        element.ValueKind == JsonValueKind.Object && element.TryGetProperty("type", out JsonElement type) && type.ValueKind == JsonValueKind.String
            ? type.GetString()!
            : string.Empty;

    private JsonElement Required(JsonElement element, string name, string field, JsonValueKind kind)
    {
        if (!element.TryGetProperty(name, out JsonElement value) || value.ValueKind != kind)
        {
            throw new TokenizerFormatException(_path, $"{field}.{name}", $"expected {kind}, found {(value.ValueKind == JsonValueKind.Undefined ? "nothing" : value.GetRawText())}");
        }

        return value;
    }

    private bool Flag(JsonElement element, string name, bool fallback) =>
        element.TryGetProperty(name, out JsonElement value) && value.ValueKind is JsonValueKind.True or JsonValueKind.False
            ? value.ValueKind == JsonValueKind.True
            : fallback;

    private void AddNormalizer(JsonElement n, string field)
    {
        switch (TypeOf(n))
        {
            case "Sequence":
                int i = 0;
                foreach (JsonElement inner in Required(n, "normalizers", field, JsonValueKind.Array).EnumerateArray())
                {
                    AddNormalizer(inner, $"{field}.normalizers[{i++}]");
                }

                break;
            case "Precompiled":
                AddPrecompiled(n, field);
                break;
            case "Strip":
                bool left = Flag(n, "strip_left", true), right = Flag(n, "strip_right", true);
                _normalizers.Add(s => left && right ? s.Trim() : left ? s.TrimStart() : right ? s.TrimEnd() : s);
                break;
            case "Replace":
                var (regex, literal) = ReadPattern(n, field);
                string content = Required(n, "content", field, JsonValueKind.String).GetString()!;
                _normalizers.Add(regex is not null ? s => regex.Replace(s, content.Replace("$", "$$", StringComparison.Ordinal)) : s => s.Replace(literal!, content, StringComparison.Ordinal));
                break;
            case "NFC":
                _normalizers.Add(s => s.Normalize(NormalizationForm.FormC));
                break;
            case "NFD":
                _normalizers.Add(s => s.Normalize(NormalizationForm.FormD));
                break;
            case "NFKC":
                _normalizers.Add(s => s.Normalize(NormalizationForm.FormKC));
                break;
            case "NFKD":
                _normalizers.Add(s => s.Normalize(NormalizationForm.FormKD));
                break;
            case "Lowercase":
                _normalizers.Add(s => s.ToLowerInvariant());
                break;
            case "Prepend":
                string prepend = Required(n, "prepend", field, JsonValueKind.String).GetString()!;
                _normalizers.Add(s => s.Length > 0 ? prepend + s : s);
                break;
            default:
                throw new TokenizerFormatException(_path, $"{field}.type", $"unknown or unsupported normalizer '{TypeOf(n)}'");
        }
    }

    private (Regex? Regex, string? Literal) ReadPattern(JsonElement n, string field)
    {
        JsonElement pattern = Required(n, "pattern", field, JsonValueKind.Object);
        if (pattern.TryGetProperty("Regex", out JsonElement r) && r.ValueKind == JsonValueKind.String)
        {
            try
            {
                return (new Regex(r.GetString()!, RegexOptions.CultureInvariant), null);
            }
            catch (ArgumentException ex)
            {
                throw new TokenizerFormatException(_path, $"{field}.pattern.Regex", $"not a valid regular expression: {ex.Message}", ex);
            }
        }

        if (pattern.TryGetProperty("String", out JsonElement s) && s.ValueKind == JsonValueKind.String && s.GetString()!.Length > 0)
        {
            return (null, s.GetString());
        }

        throw new TokenizerFormatException(_path, $"{field}.pattern", $"expected {{\"String\": ...}} or {{\"Regex\": ...}}, found {pattern.GetRawText()}");
    }

    /// <summary>
    /// <c>tokenizers</c>' <c>Precompiled</c>: per grapheme cluster shorter than 6 UTF-8 bytes the whole cluster is
    /// looked up, else (or when that fails) each character; sentencepiece instead rewrites longest byte prefixes.
    /// </summary>
    private void AddPrecompiled(JsonElement n, string field)
    {
        byte[] blob;
        try
        {
            blob = Convert.FromBase64String(Required(n, "precompiled_charsmap", field, JsonValueKind.String).GetString()!);
        }
        catch (FormatException ex)
        {
            throw new TokenizerFormatException(_path, $"{field}.precompiled_charsmap", "not valid base64", ex);
        }

        if (blob.Length == 0)
        {
            return;
        }

        var charsmap = new SentencePieceNormalizer(new NormalizerSpecData { PrecompiledCharsMap = blob }, false, null, _path, $"{field}.precompiled_charsmap");
        _normalizers.Add(text =>
        {
            var output = new StringBuilder(text.Length);
            var graphemes = StringInfo.GetTextElementEnumerator(text);
            Span<byte> buffer = stackalloc byte[4];
            while (graphemes.MoveNext())
            {
                string grapheme = graphemes.GetTextElement();
                byte[] utf8 = Encoding.UTF8.GetBytes(grapheme);
                if (utf8.Length < 6 && charsmap.TryTransform(utf8, out ReadOnlySpan<byte> whole))
                {
                    output.Append(Encoding.UTF8.GetString(whole));
                    continue;
                }

                foreach (Rune rune in grapheme.EnumerateRunes())
                {
                    int length = rune.EncodeToUtf8(buffer);
                    if (charsmap.TryTransform(buffer[..length], out ReadOnlySpan<byte> part))
                    {
                        output.Append(Encoding.UTF8.GetString(part));
                    }
                    else
                    {
                        output.Append(rune.ToString());
                    }
                }
            }

            return output.ToString();
        });
    }

    private void AddPreTokenizer(JsonElement p, string field)
    {
        switch (TypeOf(p))
        {
            case "Sequence":
                int i = 0;
                foreach (JsonElement inner in Required(p, "pretokenizers", field, JsonValueKind.Array).EnumerateArray())
                {
                    AddPreTokenizer(inner, $"{field}.pretokenizers[{i++}]");
                }

                break;
            case "WhitespaceSplit":
                _preTokenizers.Add(words =>
                {
                    var result = new List<(string, bool)>();
                    foreach (var (text, atStart) in words)
                    {
                        int start = -1;
                        for (int k = 0; k <= text.Length; k++)
                        {
                            bool space = k == text.Length || char.IsWhiteSpace(text[k]);
                            if (space && start >= 0)
                            {
                                result.Add((text[start..k], atStart && start == 0));
                                start = -1;
                            }
                            else if (!space && start < 0)
                            {
                                start = k;
                            }
                        }
                    }

                    return result;
                });
                break;
            case "Metaspace":
                AddMetaspace(p, field);
                break;
            default:
                throw new TokenizerFormatException(_path, $"{field}.type", $"unknown or unsupported pre-tokenizer '{TypeOf(p)}'");
        }
    }

    /// <summary>Reads Metaspace's prepend scheme: <c>prepend_scheme</c> (tokenizers ≥ 0.14) or the older <c>add_prefix_space</c>.</summary>
    private string ReadPrependScheme(JsonElement p, string field)
    {
        string replacement = p.TryGetProperty("replacement", out JsonElement r) && r.ValueKind == JsonValueKind.String ? r.GetString()! : "\u2581";
        if (replacement != "\u2581")
        {
            throw new TokenizerFormatException(_path, $"{field}.replacement", $"only U+2581 is supported, found {r.GetRawText()}");
        }

        if (p.TryGetProperty("prepend_scheme", out JsonElement scheme) && scheme.ValueKind == JsonValueKind.String)
        {
            return scheme.GetString() is "always" or "first" or "never" ? scheme.GetString()!
                : throw new TokenizerFormatException(_path, $"{field}.prepend_scheme", $"expected always, first or never, found {scheme.GetRawText()}");
        }

        return Flag(p, "add_prefix_space", true) ? "always" : "never";
    }

    private void AddMetaspace(JsonElement p, string field)
    {
        string scheme = ReadPrependScheme(p, field);
        bool split = Flag(p, "split", true);
        _preTokenizers.Add(words =>
        {
            var result = new List<(string, bool)>();
            foreach (var (word, atStart) in words)
            {
                string text = word.Replace(' ', Replacement);
                if (text.Length > 0 && text[0] != Replacement && (scheme == "always" || (scheme == "first" && atStart)))
                {
                    text = Replacement + text;
                }

                if (!split)
                {
                    result.Add((text, atStart));
                    continue;
                }

                // SplitDelimiterBehavior::MergedWithNext: every U+2581 starts a new word.
                int start = 0;
                for (int k = 1; k <= text.Length; k++)
                {
                    if (k == text.Length || text[k] == Replacement)
                    {
                        result.Add((text[start..k], atStart && start == 0));
                        start = k;
                    }
                }
            }

            return result;
        });
    }

    private void AddDecoder(JsonElement d, string field)
    {
        switch (TypeOf(d))
        {
            case "Sequence":
                int i = 0;
                foreach (JsonElement inner in Required(d, "decoders", field, JsonValueKind.Array).EnumerateArray())
                {
                    AddDecoder(inner, $"{field}.decoders[{i++}]");
                }

                break;
            case "Metaspace":
                // The first token loses every U+2581 it has (not only a leading one), as tokenizers' decode_chain does.
                bool prepends = ReadPrependScheme(d, field) != "never";
                _decoders.Add(tokens => [.. tokens.Select((t, k) => k == 0 && prepends ? t.Replace("\u2581", string.Empty, StringComparison.Ordinal) : t.Replace(Replacement, ' '))]);
                break;
            case "Replace":
                var (regex, literal) = ReadPattern(d, field);
                string content = Required(d, "content", field, JsonValueKind.String).GetString()!;
                _decoders.Add(tokens => [.. tokens.Select(t => regex is not null ? regex.Replace(t, content.Replace("$", "$$", StringComparison.Ordinal)) : t.Replace(literal!, content, StringComparison.Ordinal))]);
                break;
            case "Fuse":
                _decoders.Add(tokens => [string.Concat(tokens)]);
                break;
            case "Strip":
                string strip = d.TryGetProperty("content", out JsonElement c) && c.ValueKind == JsonValueKind.String ? c.GetString()! : " ";
                int startCount = d.TryGetProperty("start", out JsonElement s) && s.TryGetInt32(out int sv) ? sv : 0;
                int stopCount = d.TryGetProperty("stop", out JsonElement e) && e.TryGetInt32(out int ev) ? ev : 0;
                _decoders.Add(tokens => [.. tokens.Select(t => StripToken(t, strip, startCount, stopCount))]);
                break;
            case "ByteFallback":
                _decoders.Add(ByteFallback);
                break;
            default:
                throw new TokenizerFormatException(_path, $"{field}.type", $"unknown or unsupported decoder '{TypeOf(d)}'");
        }
    }

    private static string StripToken(string token, string content, int start, int stop)
    {
        int begin = 0;
        while (begin < start && token.AsSpan(begin).StartsWith(content, StringComparison.Ordinal))
        {
            begin += content.Length;
        }

        int end = token.Length;
        for (int k = 0; k < stop && end - content.Length >= begin && token.AsSpan(begin, end - begin).EndsWith(content, StringComparison.Ordinal); k++)
        {
            end -= content.Length;
        }

        return token[begin..end];
    }

    /// <summary>tokenizers' <c>ByteFallback</c> decoder: runs of <c>&lt;0xNN&gt;</c> become their UTF-8 text, or one U+FFFD per byte when invalid.</summary>
    private static List<string> ByteFallback(List<string> tokens)
    {
        var result = new List<string>();
        var bytes = new List<byte>();
        foreach (string token in tokens)
        {
            if (IsBytePiece(token))
            {
                bytes.Add(byte.Parse(token.AsSpan(3, 2), NumberStyles.AllowHexSpecifier, CultureInfo.InvariantCulture));
                continue;
            }

            Flush();
            result.Add(token);
        }

        Flush();
        return result;

        void Flush()
        {
            if (bytes.Count == 0)
            {
                return;
            }

            try
            {
                result.Add(new UTF8Encoding(false, true).GetString([.. bytes]));
            }
            catch (DecoderFallbackException)
            {
                result.AddRange(Enumerable.Repeat("\uFFFD", bytes.Count));
            }

            bytes.Clear();
        }
    }
}
