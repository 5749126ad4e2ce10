using GpuTransformer.Kernels;
using GpuTransformer.Runtime;

namespace GpuTransformer.Model.Architectures;

/// <summary>
/// Everything <see cref="EncoderDecoderModel"/> reads, on its accelerator, resolved from one family's weight names by
/// <see cref="ModelWeightLoader"/>. Tied tensors are one buffer with several uses. Owns every buffer it holds.
/// </summary>
internal sealed class ModelWeights : IDisposable
{
    private readonly List<IDisposable> owned;

    public ModelWeights(List<IDisposable> owned)
    {
        this.owned = owned;
    }

    /// <summary>The encoder's token table, [source vocab, d_model]; the output projection itself when tied.</summary>
    public required LinearWeight EncoderEmbedding { get; init; }

    /// <summary>The decoder's token table, [target vocab, d_model]; the output projection itself when tied.</summary>
    public required LinearWeight DecoderEmbedding { get; init; }

    /// <summary>The lm_head with final_logits_bias as its bias.</summary>
    public required LinearWeight OutputProjection { get; init; }

    /// <summary>Position tables added to the embeddings (every family but T5), row = position + offset; empty for T5.</summary>
    public ArrayView<float> EncoderPositions { get; init; }

    public ArrayView<float> DecoderPositions { get; init; }

    /// <summary>Rows in the position tables.</summary>
    public int PositionRows { get; init; }

    public NormWeights? EncoderEmbeddingNorm { get; init; }

    public NormWeights? DecoderEmbeddingNorm { get; init; }

    public NormWeights? EncoderFinalNorm { get; init; }

    public NormWeights? DecoderFinalNorm { get; init; }

    public RelativePositionBias? EncoderPositionBias { get; init; }

    public RelativePositionBias? DecoderPositionBias { get; init; }

    public required EncoderLayerWeights[] EncoderLayers { get; init; }

    public required DecoderLayerWeights[] DecoderLayers { get; init; }

    /// <summary>Bytes of device memory the weights occupy.</summary>
    public long Bytes => owned.Sum(o => o switch
    {
        LinearWeight w => w.Bytes,
        MemoryBuffer<float> b => b.Memory.Bytes,
        _ => 0,
    });

    public void Dispose()
    {
        foreach (var item in owned)
        {
            item.Dispose();
        }

        owned.Clear();
    }
}
