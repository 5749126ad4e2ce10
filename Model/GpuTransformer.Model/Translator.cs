using System.Diagnostics;
using GpuTransformer.Kernels.Cpu;
using GpuTransformer.Model.Architectures;
using GpuTransformer.Model.Configuration;
using GpuTransformer.Model.Generation;
using GpuTransformer.Model.Weights;
using GpuTransformer.Runtime;
using GpuTransformer.Tokenizer;

namespace GpuTransformer.Model;

/// <summary>
/// Translates (or, for summarisation and T5 prompts, generates) text with a Hugging Face encoder-decoder model folder
/// (config.json, model.safetensors or pytorch_model.bin, tokenizer files) of the Marian, BART, mBART, T5, M2M100,
/// NLLB or Pegasus family, giving exactly the tokens the model's <c>generate</c> gives in Hugging Face.
/// </summary>
/// <example>
/// <code>
/// using var translator = Translator.Create("models/multi30k-en-de-small", new TranslatorOptions { Device = "cpu" });
/// var results = translator.Translate(["A dog runs."], new GenerationOptions { NumBeams = 4 });
/// Console.WriteLine(results[0].Text);
/// </code>
/// </example>
public sealed class Translator : IDisposable
{
    private readonly Accelerator accelerator;
    private readonly EncoderDecoderModel model;
    private readonly SequenceGenerator generator;
    private readonly Action<string> warn;
    private readonly int maxBatchSize;
    private bool disposed;

    private Translator(string directory, TranslatorOptions options)
    {
        if (options.Threads is int threads)
        {
            CpuParallel.ThreadCount = threads;
        }

        ArgumentOutOfRangeException.ThrowIfLessThan(options.MaxBatchSize, 1, nameof(options.MaxBatchSize));
        maxBatchSize = options.MaxBatchSize;
        warn = options.Warning ?? (message => Trace.TraceWarning(message));
        ModelDirectory = directory;
        Config = ModelConfig.Load(directory);
        Tokenizer = AutoTokenizer.Load(directory).WithLanguages(options.SourceLanguage, options.TargetLanguage);
        if (Tokenizer is MarianTokenizer marian
            ? marian.SourceVocabSize > Config.VocabSize || marian.TargetVocabSize > Config.DecoderVocabSize
            : Tokenizer.Count > Config.VocabSize)
        {
            throw new ModelFormatException(
                directory,
                "vocab",
                $"the tokenizer ({Tokenizer.TokenizerClass}) has {Tokenizer.Count} ids but config.json's vocab_size/decoder_vocab_size are {Config.VocabSize}/{Config.DecoderVocabSize}");
        }

        GenerationDefaults = GenerationConfig.Load(directory, Config);
        accelerator = DeviceCatalog.Open(options.Device);
        accelerator.Profiler = options.Profiler;
        try
        {
            using var weights = WeightStore.Open(directory);
            model = EncoderDecoderModel.Load(Config, weights, accelerator, options.ComputeType, options.Int8OutputProjection);
            Info = Describe(Config, weights);
        }
        catch
        {
            accelerator.Dispose();
            throw;
        }

        Device = accelerator.Id;
        generator = new SequenceGenerator(model);
    }

    /// <summary>The model folder.</summary>
    public string ModelDirectory { get; }

    /// <summary>Bytes the model's weights occupy on the device, in every layout held (packed on the cpu backend).</summary>
    public long WeightBytes => model.WeightBytes;

    /// <summary>The accelerator the model runs on: its allocation counters show what a call leaves behind.</summary>
    internal Accelerator Accelerator => accelerator;

    /// <summary>The device the model runs on, by id (<c>cpu</c>, <c>emulator</c>, <c>opencl:0</c>, ...).</summary>
    public string Device { get; }

    /// <summary>The device's name as its driver reports it.</summary>
    public string DeviceName => accelerator.Name;

    /// <summary>The parsed config.json.</summary>
    public ModelConfig Config { get; }

    /// <summary>The model's generation defaults (generation_config.json, else config.json).</summary>
    public GenerationConfig GenerationDefaults { get; }

    /// <summary>The tokenizer (chosen by <see cref="AutoTokenizer"/>), set to the options' languages.</summary>
    public ISeq2SeqTokenizer Tokenizer { get; }

    /// <summary>Architecture, sizes and parameter count.</summary>
    public ModelInfo Info { get; }

    /// <summary>The longest input in tokens (<c>&lt;/s&gt;</c> included); longer inputs are truncated with a warning.</summary>
    public int MaxInputTokens => Math.Min(Tokenizer.ModelMaxLength, Config.MaxPositionEmbeddings);

    /// <summary>The devices present on this machine, by id.</summary>
    public static IReadOnlyList<string> AvailableDevices => DeviceCatalog.Enumerate().Select(d => d.Id).ToArray();

    /// <summary>Loads a model folder.</summary>
    /// <param name="modelDirectory">A Hugging Face model folder of a supported family.</param>
    /// <param name="options">Device and threading; null for defaults.</param>
    /// <returns>A translator; dispose it when done.</returns>
    /// <exception cref="DirectoryNotFoundException">The folder does not exist.</exception>
    /// <exception cref="FileNotFoundException">A required file (config.json, weights, tokenizer files) is missing.</exception>
    /// <exception cref="ModelFormatException">A file is malformed; the message names the file and field.</exception>
    /// <exception cref="TokenizerFormatException">A tokenizer file is malformed.</exception>
    /// <exception cref="NotSupportedException">The model_type, an option of it, or the device is not supported.</exception>
    /// <exception cref="ArgumentException">A language in <paramref name="options"/> is not one of the model's codes
    /// (the message lists them), or the model has no languages.</exception>
    public static Translator Create(string modelDirectory, TranslatorOptions? options = null)
    {
        ArgumentException.ThrowIfNullOrEmpty(modelDirectory);
        if (!Directory.Exists(modelDirectory))
        {
            throw new DirectoryNotFoundException($"model folder '{modelDirectory}' does not exist");
        }

        return new Translator(Path.GetFullPath(modelDirectory), options ?? new TranslatorOptions());
    }

    /// <summary>Translates one text.</summary>
    /// <param name="text">The source text.</param>
    /// <param name="options">Generation settings; null uses the model's defaults.</param>
    /// <param name="cancellationToken">Cancels between decoding steps.</param>
    /// <returns>The hypotheses for the text.</returns>
    /// <exception cref="ArgumentException">The text is not valid UTF-16, or an option is out of range.</exception>
    /// <exception cref="OperationCanceledException">Cancelled.</exception>
    public TranslationResult Translate(string text, GenerationOptions? options = null, CancellationToken cancellationToken = default) =>
        Translate([text], options, cancellationToken)[0];

    /// <summary>Translates texts, in batches of similar length; results come back in input order.</summary>
    /// <param name="texts">The source texts.</param>
    /// <param name="options">Generation settings; null uses the model's defaults.</param>
    /// <param name="cancellationToken">Cancels between decoding steps.</param>
    /// <returns>One result per text, in order.</returns>
    /// <exception cref="ArgumentException">A text is not valid UTF-16 (the message names which), or an option is out of range.</exception>
    /// <exception cref="OperationCanceledException">Cancelled.</exception>
    public IReadOnlyList<TranslationResult> Translate(IReadOnlyList<string> texts, GenerationOptions? options = null, CancellationToken cancellationToken = default)
    {
        ObjectDisposedException.ThrowIf(disposed, this);
        ArgumentNullException.ThrowIfNull(texts);
        var tokenizer = TokenizerFor(options);
        var settings = ResolveSettings(tokenizer, options);
        if (settings.MaxLength > Config.MaxPositionEmbeddings)
        {
            throw new ArgumentException($"max_new_tokens {settings.MaxLength - 1} needs {settings.MaxLength} decoder positions but the model has max_position_embeddings {Config.MaxPositionEmbeddings}", nameof(options));
        }

        // Tokenize everything first so that a bad text fails the call before any work is done.
        var encoded = new int[texts.Count][];
        var truncated = new bool[texts.Count];
        for (int i = 0; i < texts.Count; i++)
        {
            string text = texts[i] ?? throw new ArgumentNullException(nameof(texts), $"texts[{i}] is null");
            try
            {
                encoded[i] = tokenizer.EncodeSource(text, MaxInputTokens, out truncated[i]);
            }
            catch (ArgumentException e)
            {
                throw new ArgumentException($"texts[{i}]: {e.Message}", nameof(texts), e);
            }

            if (truncated[i])
            {
                warn($"input {i} is longer than the model's {MaxInputTokens} positions and was truncated to {MaxInputTokens} tokens");
            }
        }

        var results = new TranslationResult[texts.Count];
        // An empty text is encoded as a lone </s> and translated, exactly as HF does (the goldens include that case).
        var order = Enumerable.Range(0, texts.Count).OrderByDescending(i => encoded[i].Length).ToArray();

        for (int start = 0; start < order.Length; start += maxBatchSize)
        {
            var batch = order.AsSpan(start, Math.Min(maxBatchSize, order.Length - start)).ToArray();
            var hypotheses = Generate(batch.Select(i => encoded[i]).ToArray(), settings, cancellationToken);
            for (int b = 0; b < batch.Length; b++)
            {
                int i = batch[b];
                results[i] = new TranslationResult(
                    texts[i],
                    hypotheses[b].Select(h => new Hypothesis(tokenizer.Decode(h.Ids, skipSpecialTokens: true), h.Ids, h.Score)).ToArray(),
                    truncated[i]);
            }
        }

        return results;
    }

    /// <summary>Scores a given target for a source: the log-probability of each target token under the model.</summary>
    /// <param name="source">The source text.</param>
    /// <param name="target">The target text, tokenized as HF tokenizes labels (<c>text_target=</c>).</param>
    /// <returns>The target ids and each one's log-probability.</returns>
    /// <exception cref="ArgumentException">A text is not valid UTF-16. Texts longer than the model's positions are truncated with a warning.</exception>
    public ScoringResult Score(string source, string target)
    {
        ObjectDisposedException.ThrowIf(disposed, this);
        ArgumentNullException.ThrowIfNull(source);
        ArgumentNullException.ThrowIfNull(target);
        int[] sourceIds = Tokenizer.EncodeSource(source, MaxInputTokens, out bool truncated);
        if (truncated)
        {
            warn($"the source is longer than the model's {MaxInputTokens} positions and was truncated");
        }

        // Long targets are cut as HF's truncation=True cuts them (special tokens kept), like long sources.
        int[] labels = Tokenizer.EncodeTarget(target, Math.Min(Tokenizer.ModelMaxLength, Config.MaxPositionEmbeddings), out bool targetTruncated);
        if (targetTruncated)
        {
            warn($"the target is longer than the model's {Config.MaxPositionEmbeddings} positions and was truncated");
        }

        // Decoder inputs are the labels shifted right as the family's HF code shifts them (mBART wraps the language code).
        int[] decoderInputs = TeacherForcing.DecoderInputs(Config, model.Spec, labels);
        using var encoder = model.Encode(sourceIds, 1, sourceIds.Length, [sourceIds.Length]);
        using var state = model.CreateDecoderState(encoder, 1, decoderInputs.Length, decoderInputs.Length);
        int vocab = model.TargetVocabSize;
        var logits = new float[decoderInputs.Length * vocab];
        model.Decode(state, decoderInputs, decoderInputs.Length);
        state.Logits.SubView(0, logits.Length).CopyToCPU(logits);
        var logProbabilities = new float[labels.Length];
        for (int t = 0; t < labels.Length; t++)
        {
            var row = logits.AsSpan(t * vocab, vocab);
            CpuSoftmax.LogSoftmax(row, row);
            logProbabilities[t] = row[labels[t]];
        }

        return new ScoringResult(labels, logProbabilities);
    }

    /// <summary>Releases the model's device memory and the device.</summary>
    public void Dispose()
    {
        if (!disposed)
        {
            disposed = true;
            model.Dispose();
            accelerator.Dispose();
        }
    }

    private ISeq2SeqTokenizer TokenizerFor(GenerationOptions? options)
    {
        try
        {
            return Tokenizer.WithLanguages(options?.SourceLanguage, options?.TargetLanguage);
        }
        catch (ArgumentException e)
        {
            throw new ArgumentException(e.Message, nameof(options), e);
        }
    }

    /// <summary>
    /// Generation settings with the target language applied: its token is forced after the decoder start
    /// (mBART-50, M2M100, NLLB, as HF's <c>forced_bos_token_id</c>); mBART-cc25 checkpoints without a
    /// forced_bos_token_id start the decoder with it instead, as fairseq trained them.
    /// </summary>
    private GenerationSettings ResolveSettings(ISeq2SeqTokenizer tokenizer, GenerationOptions? options)
    {
        int? forcedBos = null;
        int? decoderStart = null;
        if (tokenizer.LanguageCodes.Count > 0 && options?.ForcedBosTokenId is null)
        {
            if (tokenizer.TargetLanguage is string target)
            {
                int id = tokenizer.GetLanguageId(target);
                if (tokenizer.TokenizerClass == "MBartTokenizer" && GenerationDefaults.ForcedBosTokenId is null)
                {
                    decoderStart = id;
                }
                else
                {
                    forcedBos = id;
                }
            }
            else if (GenerationDefaults.ForcedBosTokenId is null)
            {
                throw new ArgumentException(
                    $"{Tokenizer.TokenizerClass} model '{ModelDirectory}' needs a target language (TranslatorOptions.TargetLanguage or GenerationOptions.TargetLanguage). Valid codes: {string.Join(", ", tokenizer.LanguageCodes)}.",
                    nameof(options));
            }
        }

        return GenerationSettings.Resolve(GenerationDefaults, options, forcedBos, decoderStart);
    }

    private GeneratedHypothesis[][] Generate(int[][] inputs, GenerationSettings settings, CancellationToken cancellationToken)
    {
        int length = inputs.Max(ids => ids.Length);
        var ids = new int[inputs.Length * length];
        Array.Fill(ids, Tokenizer.PadId);
        var lengths = new int[inputs.Length];
        for (int b = 0; b < inputs.Length; b++)
        {
            inputs[b].CopyTo(ids, b * length);
            lengths[b] = inputs[b].Length;
        }

        using var encoder = model.Encode(ids, inputs.Length, length, lengths);
        return generator.Generate(encoder, settings, cancellationToken);
    }

    private static ModelInfo Describe(ModelConfig config, WeightStore weights)
    {
        long parameters = 0;
        var dtypes = new SortedSet<string>(StringComparer.Ordinal);
        foreach (string name in weights.Names)
        {
            var info = weights.GetInfo(name);
            dtypes.Add(info.DType.ToString());
            if (name != "final_logits_bias")
            {
                parameters += info.ElementCount;
            }
        }

        return new ModelInfo
        {
            Architecture = config.ModelType,
            WeightsFile = weights.SourceFile,
            WeightsDType = string.Join("+", dtypes),
            ModelDim = config.DModel,
            EncoderLayers = config.EncoderLayers,
            DecoderLayers = config.DecoderLayers,
            Heads = config.EncoderAttentionHeads,
            FfnDim = config.EncoderFfnDim,
            SourceVocabSize = config.VocabSize,
            TargetVocabSize = config.DecoderVocabSize,
            MaxPositions = config.MaxPositionEmbeddings,
            Activation = config.ActivationFunction,
            Parameters = parameters,
        };
    }
}
