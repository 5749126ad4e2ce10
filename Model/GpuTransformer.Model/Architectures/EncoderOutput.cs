using GpuTransformer.Runtime;

namespace GpuTransformer.Model.Architectures;

/// <summary>
/// What the decoder needs from one encoder run, on the model's accelerator: the last hidden states, the valid length
/// of each (right-padded) sequence, and every decoder layer's cross-attention keys and values, computed once per input.
/// </summary>
internal sealed class EncoderOutput : IDisposable
{
    private readonly MemoryBuffer<float> hidden;
    private readonly MemoryBuffer<int> lengths;
    private readonly MemoryBuffer<float>[] crossKeys;
    private readonly MemoryBuffer<float>[] crossValues;

    public EncoderOutput(Accelerator accelerator, int batch, int sequenceLength, int modelDim, int attentionDim, int decoderLayers, int[] lengths)
    {
        Batch = batch;
        SequenceLength = sequenceLength;
        Lengths = lengths;
        crossKeys = new MemoryBuffer<float>[decoderLayers];
        crossValues = new MemoryBuffer<float>[decoderLayers];
        try
        {
            hidden = accelerator.Allocate<float>(batch * sequenceLength * modelDim);
            this.lengths = accelerator.Upload<int>(lengths);
            for (int l = 0; l < decoderLayers; l++)
            {
                crossKeys[l] = accelerator.Allocate<float>(batch * sequenceLength * attentionDim);
                crossValues[l] = accelerator.Allocate<float>(batch * sequenceLength * attentionDim);
            }
        }
        catch
        {
            Dispose();
            throw;
        }
    }

    public int Batch { get; }

    public int SequenceLength { get; }

    /// <summary>Valid tokens per sequence, on the host.</summary>
    public int[] Lengths { get; }

    /// <summary>Valid tokens per sequence, on the device (the attention's key-padding mask).</summary>
    public ArrayView<int> LengthsView => lengths.View;

    /// <summary>[Batch, SequenceLength, d_model].</summary>
    public ArrayView<float> Hidden => hidden.View;

    public ArrayView<float> CrossKeys(int layer) => crossKeys[layer].View;

    public ArrayView<float> CrossValues(int layer) => crossValues[layer].View;

    /// <summary>Downloads the hidden states (tests and diagnostics).</summary>
    public float[] ReadHidden() => hidden.ToArray();

    public void Dispose()
    {
        hidden?.Dispose();
        lengths?.Dispose();
        foreach (var buffer in crossKeys.Concat(crossValues))
        {
            buffer?.Dispose();
        }
    }
}
