using System.Text.Json;

namespace GpuTransformer.Tokenizer;

/// <summary>
/// A tokenizer read from a fast-tokenizer <c>tokenizer.json</c>, for folders that have no slow-tokenizer files.
/// Supported: the byte-level BPE of BART / RoBERTa / GPT-2 (model <c>BPE</c>, pre-tokenizer and decoder
/// <c>ByteLevel</c>, no normalizer), and the SentencePiece-style models: <c>Unigram</c> of T5 / Flan-T5, mBART and
/// Pegasus fast tokenizers, and <c>BPE</c> over Unicode characters with merges by rank of the NLLB fast tokenizer
/// (<c>unk_token</c>, <c>fuse_unk</c>, <c>byte_fallback</c>, <c>ignore_merges</c>; merges as <c>"a b"</c> or
/// <c>["a", "b"]</c>), with normalizers <c>Precompiled</c>, <c>Strip</c>, <c>Replace</c>, NF*; pre-tokenizers
/// <c>Metaspace</c> and <c>WhitespaceSplit</c>; decoders <c>Metaspace</c>, <c>ByteFallback</c>, <c>Fuse</c>,
/// <c>Strip</c>, <c>Replace</c>. Added tokens and a <c>RobertaProcessing</c>, <c>TemplateProcessing</c> or
/// <c>ByteLevel</c> post-processor apply to all; for mBART / mBART-50 / NLLB the template's language code follows the
/// chosen source or target language. A component of another type, a BPE <c>continuing_subword_prefix</c> /
/// <c>end_of_word_suffix</c> or random <c>dropout</c>, or a merge of tokens outside the vocabulary is a
/// <see cref="TokenizerFormatException"/> naming the file and the JSON path. (transformers has no fast M2M100
/// tokenizer, so there is no M2M100 <c>tokenizer.json</c> to read.)
/// </summary>
public sealed class TokenizerJsonTokenizer : PreTrainedTokenizer
{
    private readonly Dictionary<string, int> _vocab;
    private readonly Dictionary<int, string> _decoder = [];
    private static readonly string[] MultilingualClasses = ["MBartTokenizer", "MBart50Tokenizer", "NllbTokenizer"];

    private readonly ByteLevelBpe? _bpe;
    private readonly TokenizerJsonPipeline? _pipeline;
    private readonly bool _addPrefixSpace;
    private readonly (string? Token, int Id)[] _prefix;
    private readonly (string? Token, int Id)[] _suffix;
    private readonly string _tokenizerClass;
    private readonly string[] _languageCodes = [];
    private readonly int? _unkId;

    private TokenizerJsonTokenizer(string directory)
        : base(directory)
    {
        string path = Path.Combine(directory, "tokenizer.json");
        using JsonDocument doc = TokenizerJson.Parse(path);
        JsonElement root = doc.RootElement;
        if (root.ValueKind != JsonValueKind.Object)
        {
            throw new TokenizerFormatException(path, "$", $"expected an object, found {root.ValueKind}");
        }

        JsonElement model = Property(root, "model", path);
        string modelType = model.TryGetProperty("type", out JsonElement type) && type.ValueKind == JsonValueKind.String ? type.GetString()! : "BPE";
        var added = ReadAddedTokens(root, path);
        // A BPE model goes the byte-level way (BART / RoBERTa / GPT-2) when its pre-tokenizer is ByteLevel, else the
        // SentencePiece way (NLLB: Metaspace, normalizers, rank-ordered merges over Unicode characters).
        bool byteLevel = modelType == "BPE" && root.TryGetProperty("pre_tokenizer", out JsonElement preTokenizer) && TypeOf(preTokenizer) == "ByteLevel";
        if (modelType == "Unigram" || (modelType == "BPE" && !byteLevel))
        {
            _pipeline = new TokenizerJsonPipeline(root, path, added.Values.Where(t => t.Special).Select(t => t.Content).ToHashSet(StringComparer.Ordinal));
            _vocab = _pipeline.Vocab;
            _decoder = _pipeline.IdToToken;
            _unkId = _pipeline.UnkId;
        }
        else if (modelType == "BPE")
        {
            (_vocab, _bpe, _addPrefixSpace) = ReadByteLevelBpe(root, model, path);
            foreach (var (token, id) in _vocab)
            {
                _decoder[id] = token;
            }

            if (model.TryGetProperty("unk_token", out JsonElement unk) && unk.ValueKind == JsonValueKind.String)
            {
                _unkId = _vocab.TryGetValue(unk.GetString()!, out int unkId) ? unkId
                    : throw new TokenizerFormatException(path, "model.unk_token", $"'{unk.GetString()}' is not in model.vocab");
            }
        }
        else
        {
            throw new TokenizerFormatException(path, "model.type", $"unknown or unsupported model type '{modelType}' (supported: BPE, Unigram)");
        }

        // The special added tokens are the special tokens unless tokenizer_config.json names them.
        var config = TokenizerConfig.Load(directory);
        var specials = new Dictionary<string, AddedToken?>();
        foreach (string attribute in TokenizerConfig.SpecialTokenAttributes)
        {
            specials[attribute] = config.SpecialToken(attribute, null);
        }

        specials["unk_token"] ??= _unkId is int u ? new AddedToken(_decoder[u]) : null;
        var additional = config.AdditionalSpecialTokens.Count > 0
            ? config.AdditionalSpecialTokens
            : [.. added.Values.Where(t => t.Special && !specials.Values.Any(s => s?.Content == t.Content)).Select(t => t.Content)];
        InitializeSpecialTokens(config, specials, additional, added.ToDictionary());

        (_prefix, _suffix) = ReadPostProcessor(root, path);
        _tokenizerClass = config.GetString("tokenizer_class") is { } name
            ? (name.EndsWith("Fast", StringComparison.Ordinal) ? name : name + "Fast") + " (tokenizer.json)"
            : "PreTrainedTokenizerFast (tokenizer.json)";

        // mBART / mBART-50 / NLLB: the fast tokenizer rewrites the template for the chosen language
        // (set_src_lang_special_tokens / set_tgt_lang_special_tokens), always in the shape the file was saved with.
        if (_pipeline is not null && config.GetString("tokenizer_class") is { } cls && MultilingualClasses.Any(c => cls.StartsWith(c, StringComparison.Ordinal)))
        {
            _languageCodes = [.. config.AdditionalSpecialTokens.Where(t => TryGetAddedOrVocabId(t))];
            SourceLanguage = config.GetString("src_lang") ?? _prefix.Concat(_suffix).Select(t => t.Token).FirstOrDefault(t => t is not null && _languageCodes.Contains(t));
            TargetLanguage = config.GetString("tgt_lang");
            foreach (string? language in (ReadOnlySpan<string?>)[SourceLanguage, TargetLanguage])
            {
                if (language is not null && !_languageCodes.Contains(language))
                {
                    throw new TokenizerFormatException(config.ConfigPath, "src_lang/tgt_lang", $"'{language}' is not one of the language codes: {string.Join(", ", _languageCodes)}");
                }
            }
        }
    }

    private bool TryGetAddedOrVocabId(string token) => ConvertTokenToId(token) != UnkId || token == UnkToken;

    /// <inheritdoc/>
    public override string TokenizerClass => _tokenizerClass;

    /// <inheritdoc/>
    public override IReadOnlyList<string> LanguageCodes => _languageCodes;

    /// <inheritdoc/>
    public override int VocabSize => _vocab.Count;

    /// <summary>Loads <c>tokenizer.json</c> and the optional <c>tokenizer_config.json</c> / <c>special_tokens_map.json</c>.</summary>
    /// <param name="modelDirectory">The model folder.</param>
    /// <returns>The tokenizer.</returns>
    /// <exception cref="DirectoryNotFoundException">The folder does not exist.</exception>
    /// <exception cref="FileNotFoundException"><c>tokenizer.json</c> is missing.</exception>
    /// <exception cref="TokenizerFormatException">A tokenizer file is corrupt.</exception>
    /// <exception cref="NotSupportedException">The file uses a model, normalizer, pre-tokenizer or post-processor
    /// this class does not implement.</exception>
    public static TokenizerJsonTokenizer Load(string modelDirectory)
    {
        ArgumentException.ThrowIfNullOrEmpty(modelDirectory);
        if (!Directory.Exists(modelDirectory))
        {
            throw new DirectoryNotFoundException($"Model folder '{modelDirectory}' does not exist.");
        }

        return new TokenizerJsonTokenizer(modelDirectory);
    }

    private protected override string PrepareForTokenization(string text) =>
        _addPrefixSpace && text.Length > 0 && !PythonText.IsSpace(text[0]) ? " " + text : text;

    /// <summary>
    /// The fast tokenizer's order: split on added tokens, then each stretch between them goes through normalizer,
    /// pre-tokenizer and model on its own; Metaspace's <c>prepend_scheme: first</c> needs to know which stretch
    /// starts the text.
    /// </summary>
    private protected override IReadOnlyList<string> TokenizeText(string text)
    {
        if (_pipeline is null)
        {
            return base.TokenizeText(text);
        }

        var tokens = new List<string>();
        var chunks = SplitOnAddedTokens(text);
        for (int i = 0; i < chunks.Count; i++)
        {
            var (chunk, isAdded) = chunks[i];
            if (isAdded)
            {
                tokens.Add(chunk);
            }
            else if (chunk.Length > 0)
            {
                _pipeline.Tokenize(chunk, atStart: i == 0, tokens);
            }
        }

        return tokens;
    }

    private protected override void TokenizeChunk(string chunk, List<string> tokens)
    {
        if (_bpe is not null)
        {
            _bpe.Tokenize(chunk, tokens);
        }
        else
        {
            _pipeline!.Tokenize(chunk, atStart: true, tokens);
        }
    }

    private protected override int TokenToIdCore(string token) =>
        _vocab.TryGetValue(token, out int id) ? id : _unkId ?? UnkId;

    private protected override string? IdToTokenCore(int id) => _decoder.GetValueOrDefault(id);

    private protected override bool TryGetVocabId(string token, out int id) => _vocab.TryGetValue(token, out id);

    private protected override string ConvertTokensToString(List<string> tokens) =>
        _pipeline is not null ? _pipeline.Decode(tokens) : ByteLevelBpe.SymbolsToText(string.Concat(tokens));

    /// <summary>The post-processor's template; a language code in it stands for the chosen source or target language.</summary>
    private protected override int[] BuildInputs(List<int> ids, bool target)
    {
        var result = new List<int>(_prefix.Length + ids.Count + _suffix.Length);
        result.AddRange(_prefix.Select(t => TemplateId(t, target)));
        result.AddRange(ids);
        result.AddRange(_suffix.Select(t => TemplateId(t, target)));
        return [.. result];
    }

    private int TemplateId((string? Token, int Id) item, bool target) =>
        item.Token is not null && _languageCodes.Contains(item.Token) ? LanguageId(RequireLanguage(target)) : item.Id;

    private static SortedDictionary<int, AddedToken> ReadAddedTokens(JsonElement root, string path)
    {
        var added = new SortedDictionary<int, AddedToken>();
        if (root.TryGetProperty("added_tokens", out JsonElement addedTokens) && addedTokens.ValueKind == JsonValueKind.Array)
        {
            int i = 0;
            foreach (JsonElement token in addedTokens.EnumerateArray())
            {
                string field = $"added_tokens[{i++}]";
                if (token.ValueKind != JsonValueKind.Object || !token.TryGetProperty("id", out JsonElement id) || !id.TryGetInt32(out int tokenId) || tokenId < 0
                    || !token.TryGetProperty("content", out JsonElement content) || content.ValueKind != JsonValueKind.String)
                {
                    throw new TokenizerFormatException(path, field, "expected an object with a non-negative 'id' and a string 'content'");
                }

                bool Flag(string name) => token.TryGetProperty(name, out JsonElement v) && v.ValueKind == JsonValueKind.True;
                added[tokenId] = new AddedToken(content.GetString()!, Flag("lstrip"), Flag("rstrip"), Flag("single_word"), Flag("special"));
            }
        }

        return added;
    }

    private static (Dictionary<string, int> Vocab, ByteLevelBpe Bpe, bool AddPrefixSpace) ReadByteLevelBpe(JsonElement root, JsonElement model, string path)
    {
        if (root.TryGetProperty("normalizer", out JsonElement normalizer) && normalizer.ValueKind != JsonValueKind.Null)
        {
            throw new NotSupportedException($"'{path}': normalizer '{TypeOf(normalizer)}' is not supported with a BPE model.");
        }

        JsonElement pre = Property(root, "pre_tokenizer", path);
        if (TypeOf(pre) != "ByteLevel")
        {
            throw new NotSupportedException($"'{path}': pre_tokenizer '{TypeOf(pre)}' is not supported with a byte-level BPE model.");
        }

        if (pre.TryGetProperty("use_regex", out JsonElement useRegex) && useRegex.ValueKind == JsonValueKind.False)
        {
            throw new NotSupportedException($"'{path}': ByteLevel pre_tokenizer with use_regex false is not supported.");
        }

        bool addPrefixSpace = pre.TryGetProperty("add_prefix_space", out JsonElement aps) && aps.ValueKind == JsonValueKind.True;
        return (ReadVocab(Property(model, "vocab", path), path), new ByteLevelBpe(ReadMerges(Property(model, "merges", path), path)), addPrefixSpace);
    }

    private static JsonElement Property(JsonElement element, string name, string path) =>
        element.TryGetProperty(name, out JsonElement value) && value.ValueKind != JsonValueKind.Null
            ? value
            : throw new TokenizerFormatException(path, name, "missing");

    private static string TypeOf(JsonElement element) =>
        element.ValueKind == JsonValueKind.Object && element.TryGetProperty("type", out JsonElement type) && type.ValueKind == JsonValueKind.String
            ? type.GetString()!
            : element.ValueKind.ToString();

    /// <summary>A BPE <c>model.vocab</c>: an object mapping tokens to non-negative ids.</summary>
    internal static Dictionary<string, int> ReadVocab(JsonElement vocab, string path)
    {
        if (vocab.ValueKind != JsonValueKind.Object)
        {
            throw new TokenizerFormatException(path, "model.vocab", $"expected an object mapping tokens to ids, found {vocab.ValueKind}");
        }

        var result = new Dictionary<string, int>(StringComparer.Ordinal);
        foreach (JsonProperty entry in vocab.EnumerateObject())
        {
            if (!entry.Value.TryGetInt32(out int id) || id < 0)
            {
                throw new TokenizerFormatException(path, $"model.vocab.{entry.Name}", $"expected a non-negative integer id, found {entry.Value.GetRawText()}");
            }

            result[entry.Name] = id;
        }

        return result;
    }

    /// <summary>A BPE <c>model.merges</c> in rank order, each <c>"first second"</c> or <c>["first", "second"]</c>.</summary>
    internal static List<(string, string)> ReadMerges(JsonElement merges, string path)
    {
        if (merges.ValueKind != JsonValueKind.Array)
        {
            throw new TokenizerFormatException(path, "model.merges", $"expected an array, found {merges.ValueKind}");
        }

        // Older files write a merge as "first second", newer ones as ["first", "second"].
        var result = new List<(string, string)>();
        int i = 0;
        foreach (JsonElement merge in merges.EnumerateArray())
        {
            string[] parts = merge.ValueKind switch
            {
                JsonValueKind.String => merge.GetString()!.Split(' '),
                JsonValueKind.Array => [.. merge.EnumerateArray().Select(p => p.ValueKind == JsonValueKind.String ? p.GetString()! : string.Empty)],
                _ => [],
            };
            if (parts.Length != 2 || parts[0].Length == 0 || parts[1].Length == 0)
            {
                throw new TokenizerFormatException(path, $"model.merges[{i}]", $"expected two symbols, found {merge.GetRawText()}");
            }

            result.Add((parts[0], parts[1]));
            i++;
        }

        return result;
    }

    private ((string? Token, int Id)[] Prefix, (string? Token, int Id)[] Suffix) ReadPostProcessor(JsonElement root, string path)
    {
        if (!root.TryGetProperty("post_processor", out JsonElement post) || post.ValueKind == JsonValueKind.Null || TypeOf(post) == "ByteLevel")
        {
            return ([], []);
        }

        switch (TypeOf(post))
        {
            case "RobertaProcessing":
            case "BertProcessing":
                return ([(null, SpecialId(post, "cls", path))], [(null, SpecialId(post, "sep", path))]);
            case "TemplateProcessing":
                var prefix = new List<(string?, int)>();
                var suffix = new List<(string?, int)>();
                bool seenSequence = false;
                int i = 0;
                foreach (JsonElement piece in Property(post, "single", path).EnumerateArray())
                {
                    string field = $"post_processor.single[{i++}]";
                    if (piece.TryGetProperty("Sequence", out _))
                    {
                        seenSequence = true;
                    }
                    else if (piece.TryGetProperty("SpecialToken", out JsonElement special) && special.TryGetProperty("id", out JsonElement name) && name.ValueKind == JsonValueKind.String)
                    {
                        int id = ConvertTokenToId(name.GetString()!);
                        if (post.TryGetProperty("special_tokens", out JsonElement map) && map.TryGetProperty(name.GetString()!, out JsonElement entry)
                            && entry.TryGetProperty("ids", out JsonElement ids) && ids.ValueKind == JsonValueKind.Array && ids.GetArrayLength() == 1)
                        {
                            id = ids[0].GetInt32();
                        }

                        (seenSequence ? suffix : prefix).Add((name.GetString(), id));
                    }
                    else
                    {
                        throw new TokenizerFormatException(path, field, $"expected a Sequence or SpecialToken, found {piece.GetRawText()}");
                    }
                }

                return ([.. prefix], [.. suffix]);
            default:
                throw new NotSupportedException($"'{path}': post_processor '{TypeOf(post)}' is not supported.");
        }
    }

    private static int SpecialId(JsonElement post, string name, string path)
    {
        JsonElement pair = Property(post, name, path);
        return pair.ValueKind == JsonValueKind.Array && pair.GetArrayLength() == 2 && pair[1].TryGetInt32(out int id)
            ? id
            : throw new TokenizerFormatException(path, $"post_processor.{name}", $"expected [token, id], found {pair.GetRawText()}");
    }
}
