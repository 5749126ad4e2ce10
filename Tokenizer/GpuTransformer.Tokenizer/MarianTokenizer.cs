using System.Text;
using System.Text.Json;

namespace GpuTransformer.Tokenizer;

/// <summary>
/// The tokenizer of Marian / OPUS-MT models, reproducing Hugging Face transformers 4.43's slow
/// <c>MarianTokenizer</c>: special-token strings in the text are kept whole, a leading <c>&gt;&gt;xx&lt;&lt;</c>
/// language code is one token, the rest is segmented by the source (or target) SentencePiece model and mapped
/// through <c>vocab.json</c>, and <c>&lt;/s&gt;</c> is appended. Decoding maps ids through the target vocabulary.
/// </summary>
public sealed class MarianTokenizer : ISeq2SeqTokenizer
{
    private const string SpaceSymbol = "\u2581";

    private readonly Dictionary<string, int> _sourceVocab;
    private readonly Dictionary<string, int> _targetVocab;
    private readonly Dictionary<int, string> _decoder = [];
    private readonly Dictionary<string, int> _addedTokens = new(StringComparer.Ordinal);
    private readonly Dictionary<int, string> _addedTokensById = [];
    private readonly HashSet<string> _specialTokens = new(StringComparer.Ordinal);
    private readonly HashSet<int> _specialIds = [];
    private readonly HashSet<string> _legacyAddedTokens = new(StringComparer.Ordinal);
    private readonly string[] _splitTokens;
    private readonly string _unkToken;

    private MarianTokenizer(string directory)
    {
        string sourceSpm = Path.Combine(directory, "source.spm");
        string targetSpm = Path.Combine(directory, "target.spm");
        string vocabPath = Path.Combine(directory, "vocab.json");
        string configPath = Path.Combine(directory, "tokenizer_config.json");

        // Defaults are MarianTokenizer's constructor defaults; tokenizer_config.json overrides them when present.
        string unkToken = "<unk>";
        string eosToken = "</s>";
        string padToken = "<pad>";
        var additional = new List<string>();
        var addedById = new SortedDictionary<int, string>();
        bool separateVocabs = false;
        bool cleanUp = true;
        int modelMaxLength = 512;
        if (File.Exists(configPath))
        {
            using JsonDocument config = TokenizerJson.Parse(configPath);
            JsonElement root = config.RootElement;
            if (root.ValueKind != JsonValueKind.Object)
            {
                throw new TokenizerFormatException(configPath, "$", $"expected an object, found {root.ValueKind}");
            }

            unkToken = ReadToken(root, "unk_token", unkToken, configPath);
            eosToken = ReadToken(root, "eos_token", eosToken, configPath);
            padToken = ReadToken(root, "pad_token", padToken, configPath);
            separateVocabs = TokenizerJson.ReadBool(root, "separate_vocabs", false, configPath);
            cleanUp = TokenizerJson.ReadBool(root, "clean_up_tokenization_spaces", true, configPath);
            modelMaxLength = TokenizerJson.ReadLimit(root, "model_max_length", 512, configPath);
            if (root.TryGetProperty("additional_special_tokens", out JsonElement extra) && extra.ValueKind == JsonValueKind.Array)
            {
                int i = 0;
                foreach (JsonElement token in extra.EnumerateArray())
                {
                    string? content = TokenizerJson.ReadTokenContent(token, configPath, $"additional_special_tokens[{i++}]");
                    if (!string.IsNullOrEmpty(content))
                    {
                        additional.Add(content);
                    }
                }
            }

            if (root.TryGetProperty("added_tokens_decoder", out JsonElement added) && added.ValueKind == JsonValueKind.Object)
            {
                foreach (JsonProperty entry in added.EnumerateObject())
                {
                    string field = $"added_tokens_decoder.{entry.Name}";
                    if (!int.TryParse(entry.Name, out int id) || id < 0)
                    {
                        throw new TokenizerFormatException(configPath, field, "expected a non-negative integer id as key");
                    }

                    string content = TokenizerJson.ReadTokenContent(entry.Value, configPath, field)
                        ?? throw new TokenizerFormatException(configPath, field, "missing token content");
                    addedById[id] = content;
                }
            }
        }

        SourceModel = SentencePieceModel.Load(sourceSpm);
        TargetModel = SentencePieceModel.Load(targetSpm);
        _sourceVocab = TokenizerJson.ReadVocab(vocabPath);
        if (!_sourceVocab.ContainsKey(unkToken))
        {
            throw new TokenizerFormatException(vocabPath, unkToken, $"the unknown token '{unkToken}' must be in the vocabulary");
        }

        if (separateVocabs)
        {
            _targetVocab = TokenizerJson.ReadVocab(Path.Combine(directory, "target_vocab.json"));
        }
        else
        {
            _targetVocab = _sourceVocab;
        }

        SeparateVocabs = separateVocabs;
        foreach (var (token, id) in _targetVocab)
        {
            _decoder[id] = token;
        }

        foreach (var (id, content) in addedById)
        {
            _addedTokens[content] = id;
            _addedTokensById[id] = content;
        }

        // Hugging Face registers special tokens that the config did not list as added tokens with their vocab id.
        string[] specials = [unkToken, eosToken, padToken, .. additional];
        foreach (string token in specials)
        {
            if (!_addedTokens.ContainsKey(token))
            {
                if (!_sourceVocab.TryGetValue(token, out int id))
                {
                    throw new TokenizerFormatException(vocabPath, token, $"special token '{token}' is neither in the vocabulary nor in added_tokens_decoder");
                }

                _addedTokens[token] = id;
                _addedTokensById.TryAdd(id, token);
            }

            _specialTokens.Add(token);
            _specialIds.Add(_addedTokens[token]);
        }

        // Added tokens that are not special are decoded on their own ("legacy" added tokens in transformers), as
        // are additional special tokens whose id lies beyond the vocabulary.
        foreach (string token in _addedTokens.Keys)
        {
            if (!_specialTokens.Contains(token))
            {
                _legacyAddedTokens.Add(token);
            }
        }

        foreach (string token in additional)
        {
            if (_addedTokens[token] >= _sourceVocab.Count)
            {
                _legacyAddedTokens.Add(token);
            }
        }

        _splitTokens = [.. _addedTokens.Keys.Where(t => t.Length > 0).OrderByDescending(t => t.Length)];
        _unkToken = unkToken;
        UnkId = _addedTokens[unkToken];
        EosId = _addedTokens[eosToken];
        PadId = _addedTokens[padToken];
        ModelMaxLength = modelMaxLength;
        CleanUpTokenizationSpaces = cleanUp;
    }

    /// <inheritdoc/>
    public string TokenizerClass => "MarianTokenizer";

    /// <inheritdoc/>
    public int Count => Math.Max(_sourceVocab.Count, _addedTokensById.Count == 0 ? 0 : _addedTokensById.Keys.Max() + 1);

    /// <inheritdoc/>
    public IReadOnlyList<string> LanguageCodes => [];

    /// <inheritdoc/>
    public string? SourceLanguage => null;

    /// <inheritdoc/>
    public string? TargetLanguage => null;

    /// <summary>The SentencePiece model that segments source text (<c>source.spm</c>).</summary>
    public SentencePieceModel SourceModel { get; }

    /// <summary>The SentencePiece model that segments target text and joins decoded pieces (<c>target.spm</c>).</summary>
    public SentencePieceModel TargetModel { get; }

    /// <summary>Id of <c>&lt;pad&gt;</c> (also Marian's decoder start token).</summary>
    public int PadId { get; }

    /// <summary>Id of <c>&lt;/s&gt;</c>.</summary>
    public int EosId { get; }

    /// <summary>Id of <c>&lt;unk&gt;</c>.</summary>
    public int UnkId { get; }

    /// <summary>Number of entries in <c>vocab.json</c> (Hugging Face's <c>vocab_size</c>).</summary>
    public int SourceVocabSize => _sourceVocab.Count;

    /// <summary>Number of entries in the target vocabulary (<c>target_vocab.json</c> with separate vocabularies).</summary>
    public int TargetVocabSize => _targetVocab.Count;

    /// <summary>The longest input the model accepts, from <c>tokenizer_config.json</c> (512 by default).</summary>
    public int ModelMaxLength { get; }

    /// <summary>Whether source and target have separate vocabularies (<c>separate_vocabs</c>).</summary>
    public bool SeparateVocabs { get; }

    /// <summary>Whether decoding removes spaces before punctuation (<c>clean_up_tokenization_spaces</c>).</summary>
    public bool CleanUpTokenizationSpaces { get; }

    /// <summary>Loads the tokenizer from a Hugging Face model folder.</summary>
    /// <param name="modelDirectory">Folder with <c>source.spm</c>, <c>target.spm</c>, <c>vocab.json</c>,
    /// optionally <c>target_vocab.json</c> and <c>tokenizer_config.json</c>.</param>
    /// <returns>The tokenizer.</returns>
    /// <exception cref="DirectoryNotFoundException">The folder does not exist.</exception>
    /// <exception cref="FileNotFoundException">A required tokenizer file is missing.</exception>
    /// <exception cref="TokenizerFormatException">A tokenizer file is corrupt.</exception>
    public static MarianTokenizer Load(string modelDirectory)
    {
        ArgumentException.ThrowIfNullOrEmpty(modelDirectory);
        if (!Directory.Exists(modelDirectory))
        {
            throw new DirectoryNotFoundException($"Model folder '{modelDirectory}' does not exist.");
        }

        return new MarianTokenizer(modelDirectory);
    }

    /// <summary>The source-side tokens of a text, as <c>tokenizer.tokenize(text)</c> (no <c>&lt;/s&gt;</c>).</summary>
    /// <param name="text">The text.</param>
    /// <returns>The tokens.</returns>
    /// <exception cref="ArgumentException"><paramref name="text"/> contains an unpaired surrogate.</exception>
    public IReadOnlyList<string> TokenizeSource(string text) => Tokenize(text, SourceModel);

    /// <summary>The target-side tokens of a text, as <c>tokenize</c> in target mode (no <c>&lt;/s&gt;</c>).</summary>
    /// <param name="text">The text.</param>
    /// <returns>The tokens.</returns>
    /// <exception cref="ArgumentException"><paramref name="text"/> contains an unpaired surrogate.</exception>
    public IReadOnlyList<string> TokenizeTarget(string text) => Tokenize(text, TargetModel);

    /// <summary>The model input ids of a text: source tokens through <c>vocab.json</c>, then <c>&lt;/s&gt;</c>.</summary>
    /// <param name="text">The text.</param>
    /// <returns>The ids.</returns>
    /// <exception cref="ArgumentException"><paramref name="text"/> contains an unpaired surrogate.</exception>
    public int[] EncodeSource(string text) => Encode(text, SourceModel, _sourceVocab, int.MaxValue, out _);

    /// <summary>
    /// The model input ids of a text, truncated as Hugging Face's <c>truncation=True, max_length=maxLength</c>:
    /// the first <c>maxLength - 1</c> tokens are kept and <c>&lt;/s&gt;</c> is still appended.
    /// </summary>
    /// <param name="text">The text.</param>
    /// <param name="maxLength">The most ids to return, <c>&lt;/s&gt;</c> included; at least 1.</param>
    /// <param name="truncated">Whether tokens were dropped.</param>
    /// <returns>The ids.</returns>
    /// <exception cref="ArgumentException"><paramref name="text"/> contains an unpaired surrogate.</exception>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="maxLength"/> is less than 1.</exception>
    public int[] EncodeSource(string text, int maxLength, out bool truncated)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(maxLength, 1);
        return Encode(text, SourceModel, _sourceVocab, maxLength, out truncated);
    }

    /// <summary>The label ids of a target text (<c>tokenizer(text_target=...)</c>), <c>&lt;/s&gt;</c> appended.</summary>
    /// <param name="text">The target text.</param>
    /// <returns>The ids.</returns>
    /// <exception cref="ArgumentException"><paramref name="text"/> contains an unpaired surrogate.</exception>
    public int[] EncodeTarget(string text) => Encode(text, TargetModel, _targetVocab, int.MaxValue, out _);

    /// <summary>The label ids of a target text, truncated to <paramref name="maxLength"/> with <c>&lt;/s&gt;</c> kept.</summary>
    /// <param name="text">The target text.</param>
    /// <param name="maxLength">The most ids to return, <c>&lt;/s&gt;</c> included; at least 1.</param>
    /// <param name="truncated">Whether tokens were dropped.</param>
    /// <returns>The ids.</returns>
    /// <exception cref="ArgumentException"><paramref name="text"/> contains an unpaired surrogate.</exception>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="maxLength"/> is less than 1.</exception>
    public int[] EncodeTarget(string text, int maxLength, out bool truncated)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(maxLength, 1);
        return Encode(text, TargetModel, _targetVocab, maxLength, out truncated);
    }

    /// <summary>Encodes source texts into a right-padded batch without truncation.</summary>
    /// <param name="texts">The texts.</param>
    /// <returns>The padded batch.</returns>
    /// <exception cref="ArgumentException">A text contains an unpaired surrogate.</exception>
    public EncodedBatch EncodeSourceBatch(IReadOnlyList<string> texts) => EncodeBatch(texts, int.MaxValue);

    /// <summary>Encodes source texts into a right-padded batch, truncating each to <paramref name="maxLength"/>.</summary>
    /// <param name="texts">The texts.</param>
    /// <param name="maxLength">The most ids per row, <c>&lt;/s&gt;</c> included; at least 1.</param>
    /// <returns>The padded batch; <see cref="EncodedBatch.Truncated"/> tells which rows were cut.</returns>
    /// <exception cref="ArgumentException">A text contains an unpaired surrogate.</exception>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="maxLength"/> is less than 1.</exception>
    public EncodedBatch EncodeSourceBatch(IReadOnlyList<string> texts, int maxLength)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(maxLength, 1);
        return EncodeBatch(texts, maxLength);
    }

    /// <inheritdoc/>
    /// <remarks>OPUS-MT models choose the target language with a <c>&gt;&gt;xx&lt;&lt;</c> token in the text, not here.</remarks>
    public ISeq2SeqTokenizer WithLanguages(string? sourceLanguage, string? targetLanguage) =>
        sourceLanguage is null && targetLanguage is null
            ? this
            : throw new ArgumentException("MarianTokenizer has no language codes; multilingual OPUS-MT models take a '>>xx<<' token at the start of the text.", sourceLanguage is null ? nameof(targetLanguage) : nameof(sourceLanguage));

    /// <inheritdoc/>
    public int GetLanguageId(string language) =>
        throw new ArgumentException("MarianTokenizer has no language codes.", nameof(language));

    /// <inheritdoc/>
    public IReadOnlyList<string> Tokenize(string text) => TokenizeSource(text);

    /// <inheritdoc/>
    string ISeq2SeqTokenizer.Decode(ReadOnlySpan<int> ids, bool skipSpecialTokens) => Decode(ids, skipSpecialTokens);

    /// <summary>
    /// Turns ids into text as Hugging Face's <c>decode</c>: ids map to tokens through the target vocabulary, runs
    /// of ordinary tokens are joined by the target SentencePiece model, special tokens are dropped or kept verbatim,
    /// and spaces before punctuation are cleaned up when the config asks for it.
    /// </summary>
    /// <param name="ids">The ids (e.g. a generated sequence).</param>
    /// <param name="skipSpecialTokens">Drop <c>&lt;pad&gt;</c>, <c>&lt;/s&gt;</c>, <c>&lt;unk&gt;</c>.</param>
    /// <param name="useSourceTokenizer">Join pieces with the source model instead (<c>use_source_tokenizer</c>).</param>
    /// <returns>The text.</returns>
    public string Decode(ReadOnlySpan<int> ids, bool skipSpecialTokens = true, bool useSourceTokenizer = false)
    {
        SentencePieceModel spm = useSourceTokenizer ? SourceModel : TargetModel;
        var tokens = new List<string>(ids.Length);
        foreach (int id in ids)
        {
            if (skipSpecialTokens && _specialIds.Contains(id))
            {
                continue;
            }

            // An id outside the vocabulary becomes the unknown token, as in transformers.
            tokens.Add(ConvertIdToToken(id));
        }

        var subTexts = new List<string>();
        var current = new List<string>();
        foreach (string token in tokens)
        {
            if (_legacyAddedTokens.Contains(token))
            {
                if (current.Count > 0)
                {
                    string text = TokensToString(current, spm);
                    if (text.Length > 0)
                    {
                        subTexts.Add(text);
                    }

                    current.Clear();
                }

                subTexts.Add(token);
            }
            else
            {
                current.Add(token);
            }
        }

        if (current.Count > 0)
        {
            subTexts.Add(TokensToString(current, spm));
        }

        string result = string.Join(' ', subTexts);
        return CleanUpTokenizationSpaces ? CleanUpTokenization(result) : result;
    }

    /// <summary>
    /// The token for an id, as <c>convert_ids_to_tokens</c>: added tokens first, then the target vocabulary; an id
    /// found in neither becomes the unknown token.
    /// </summary>
    /// <param name="id">A token id.</param>
    /// <returns>The token.</returns>
    public string ConvertIdToToken(int id) =>
        _addedTokensById.TryGetValue(id, out string? added) ? added
            : _decoder.TryGetValue(id, out string? token) ? token : _unkToken;

    /// <summary>Hugging Face's <c>clean_up_tokenization</c>: removes spaces before punctuation and contractions.</summary>
    /// <param name="text">Decoded text.</param>
    /// <returns>The cleaned text.</returns>
    public static string CleanUpTokenization(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        return text
            .Replace(" .", ".", StringComparison.Ordinal)
            .Replace(" ?", "?", StringComparison.Ordinal)
            .Replace(" !", "!", StringComparison.Ordinal)
            .Replace(" ,", ",", StringComparison.Ordinal)
            .Replace(" ' ", "'", StringComparison.Ordinal)
            .Replace(" n't", "n't", StringComparison.Ordinal)
            .Replace(" 'm", "'m", StringComparison.Ordinal)
            .Replace(" 's", "'s", StringComparison.Ordinal)
            .Replace(" 've", "'ve", StringComparison.Ordinal)
            .Replace(" 're", "'re", StringComparison.Ordinal);
    }

    private static string ReadToken(JsonElement root, string name, string fallback, string path)
    {
        if (!root.TryGetProperty(name, out JsonElement value))
        {
            return fallback;
        }

        string? content = TokenizerJson.ReadTokenContent(value, path, name);
        return string.IsNullOrEmpty(content) ? fallback : content;
    }

    private string TokensToString(List<string> tokens, SentencePieceModel spm)
    {
        // MarianTokenizer.convert_tokens_to_string: special tokens are not given to SentencePiece but appended
        // verbatim followed by a space; afterwards every U+2581 left (from pieces SentencePiece does not know)
        // becomes a space and the whole string is stripped.
        var output = new StringBuilder();
        var pieces = new List<string>();
        foreach (string token in tokens)
        {
            if (_specialTokens.Contains(token))
            {
                output.Append(spm.DecodePieces(pieces)).Append(token).Append(' ');
                pieces.Clear();
            }
            else
            {
                pieces.Add(token);
            }
        }

        output.Append(spm.DecodePieces(pieces));
        output.Replace(SpaceSymbol, " ");
        return PythonStrip(output.ToString());
    }

    private static string PythonStrip(string text)
    {
        int start = 0;
        int end = text.Length;
        while (start < end && IsPythonSpace(text[start]))
        {
            start++;
        }

        while (end > start && IsPythonSpace(text[end - 1]))
        {
            end--;
        }

        return text[start..end];
    }

    // Python's str.isspace also counts the ASCII separators U+001C..U+001F, which .NET does not.
    private static bool IsPythonSpace(char c) => char.IsWhiteSpace(c) || (c >= '\u001c' && c <= '\u001f');

    private EncodedBatch EncodeBatch(IReadOnlyList<string> texts, int maxLength)
    {
        ArgumentNullException.ThrowIfNull(texts);
        var rows = new int[texts.Count][];
        var truncated = new bool[texts.Count];
        int longest = 0;
        for (int i = 0; i < texts.Count; i++)
        {
            string text = texts[i] ?? throw new ArgumentException($"Text {i} is null.", nameof(texts));
            try
            {
                rows[i] = Encode(text, SourceModel, _sourceVocab, maxLength, out truncated[i]);
            }
            catch (ArgumentException ex) when (ex.ParamName == "text")
            {
                throw new ArgumentException($"Text {i} of the batch: {ex.Message}", nameof(texts), ex);
            }

            longest = Math.Max(longest, rows[i].Length);
        }

        var ids = new int[texts.Count * longest];
        var mask = new int[texts.Count * longest];
        var lengths = new int[texts.Count];
        Array.Fill(ids, PadId);
        for (int i = 0; i < rows.Length; i++)
        {
            rows[i].CopyTo(ids, i * longest);
            mask.AsSpan(i * longest, rows[i].Length).Fill(1);
            lengths[i] = rows[i].Length;
        }

        return new EncodedBatch(ids, mask, lengths, truncated, texts.Count, longest);
    }

    private int[] Encode(string text, SentencePieceModel spm, Dictionary<string, int> vocab, int maxLength, out bool truncated)
    {
        IReadOnlyList<string> tokens = Tokenize(text, spm);
        int keep = Math.Min(tokens.Count, maxLength - 1);
        truncated = keep < tokens.Count;
        var ids = new int[keep + 1];
        int unk = vocab.TryGetValue(_unkToken, out int vocabUnk) ? vocabUnk : UnkId;
        for (int i = 0; i < keep; i++)
        {
            string token = tokens[i];
            ids[i] = _addedTokens.TryGetValue(token, out int added) ? added
                : vocab.TryGetValue(token, out int id) ? id : unk;
        }

        ids[keep] = EosId;
        return ids;
    }

    private List<string> Tokenize(string text, SentencePieceModel spm)
    {
        ArgumentNullException.ThrowIfNull(text);
        Utf8Util.ValidateUtf16(text, nameof(text));
        var tokens = new List<string>();
        int chunkStart = 0;
        int pos = 0;
        while (pos < text.Length)
        {
            string? special = MatchAddedToken(text, pos);
            if (special is null)
            {
                pos++;
                continue;
            }

            TokenizeChunk(text[chunkStart..pos], spm, tokens);
            tokens.Add(special);
            pos += special.Length;
            chunkStart = pos;
        }

        TokenizeChunk(text[chunkStart..], spm, tokens);
        return tokens;
    }

    private string? MatchAddedToken(string text, int pos)
    {
        foreach (string token in _splitTokens)
        {
            if (string.CompareOrdinal(text, pos, token, 0, token.Length) == 0 && pos + token.Length <= text.Length)
            {
                return token;
            }
        }

        return null;
    }

    private static void TokenizeChunk(string chunk, SentencePieceModel spm, List<string> tokens)
    {
        if (chunk.Length == 0)
        {
            return;
        }

        // transformers 4.43: re.match(">>.+<<") at the start is kept as one token (greedy, so it runs to the last
        // "<<" on the line), and re.sub removes every such match anywhere in the text before SentencePiece.
        if (MatchLanguageCode(chunk, 0) is int codeEnd)
        {
            tokens.Add(chunk[..codeEnd]);
        }

        tokens.AddRange(spm.EncodeAsPieces(RemoveLanguageCodes(chunk)));
    }

    private static string RemoveLanguageCodes(string text)
    {
        if (!text.Contains(">>", StringComparison.Ordinal))
        {
            return text;
        }

        var output = new StringBuilder(text.Length);
        int pos = 0;
        while (pos < text.Length)
        {
            if (MatchLanguageCode(text, pos) is int end)
            {
                pos = end;
            }
            else
            {
                output.Append(text[pos]);
                pos++;
            }
        }

        return output.ToString();
    }

    /// <summary>End of a match of the regex <c>&gt;&gt;.+&lt;&lt;</c> starting at <paramref name="pos"/>, or null.</summary>
    private static int? MatchLanguageCode(string text, int pos)
    {
        if (string.CompareOrdinal(text, pos, ">>", 0, 2) != 0 || pos + 2 > text.Length)
        {
            return null;
        }

        // '.' does not match '\n', so the match cannot leave the line; greedy '.+' takes the last "<<" on it.
        int lineEnd = text.IndexOf('\n', pos + 2);
        if (lineEnd < 0)
        {
            lineEnd = text.Length;
        }

        int last = text.LastIndexOf("<<", lineEnd - 1, lineEnd - pos, StringComparison.Ordinal);
        return last >= pos + 3 ? last + 2 : null;
    }
}
