namespace GpuTransformer.Cli;

/// <summary>The shape of a random Marian model that <c>make-random-model</c> writes.</summary>
/// <param name="Name">The preset's name on the command line.</param>
/// <param name="ModelDim">d_model.</param>
/// <param name="Heads">Attention heads in the encoder and the decoder.</param>
/// <param name="EncoderLayers">Encoder layers.</param>
/// <param name="DecoderLayers">Decoder layers.</param>
/// <param name="FfnDim">Inner size of the feed-forward blocks.</param>
/// <param name="VocabSize">Joint vocabulary size; the pad id is the last id, as in opus-mt-en-de.</param>
/// <param name="MaxPositions">max_position_embeddings (static sinusoidal positions).</param>
public sealed record RandomModelPreset(string Name, int ModelDim, int Heads, int EncoderLayers, int DecoderLayers, int FfnDim, int VocabSize, int MaxPositions)
{
    /// <summary>The shape of Helsinki-NLP/opus-mt-en-de: about 74 M parameters, 296 MB in float32.</summary>
    public static readonly RandomModelPreset MarianBase = new("marian-base", 512, 8, 6, 6, 2048, 58101, 512);

    /// <summary>A small model for tests and quick checks; its vocabulary still holds the bundled tokenizer's 7700 ids.</summary>
    public static readonly RandomModelPreset MarianTiny = new("marian-tiny", 64, 4, 2, 2, 128, 8000, 256);

    /// <summary>Every preset, by name.</summary>
    public static IReadOnlyList<RandomModelPreset> All { get; } = [MarianBase, MarianTiny];

    /// <summary>The pad id, which is also the decoder start id and a banned word: the last id.</summary>
    public int PadId => VocabSize - 1;

    /// <summary>Float values stored in model.safetensors: the shared embedding once (tied to the output projection), every layer, final_logits_bias.</summary>
    public long StoredValues
    {
        get
        {
            long d = ModelDim, f = FfnDim;
            long attention = 4 * (d * d + d), norm = 2 * d, ffn = d * f + f + f * d + d;
            long encoder = EncoderLayers * (attention + norm + ffn + norm);
            long decoder = DecoderLayers * (2 * (attention + norm) + ffn + norm);
            return (long)VocabSize * d + encoder + decoder + VocabSize;
        }
    }

    /// <summary>Finds a preset by name.</summary>
    /// <exception cref="UsageException">No preset has that name.</exception>
    public static RandomModelPreset Find(string name) =>
        All.FirstOrDefault(p => p.Name == name) ?? throw new UsageException($"--preset must be one of {string.Join("|", All.Select(p => p.Name))}, got '{name}'");
}
