namespace GpuTransformer.Model.Architectures;

/// <summary>
/// What the decoder needs from one encoder run: the last hidden states, the valid length of each (right-padded)
/// sequence, and every decoder layer's cross-attention keys and values, computed once per input.
/// </summary>
internal sealed class EncoderOutput
{
    public EncoderOutput(int batch, int sequenceLength, int modelDim, int attentionDim, int decoderLayers, int[] lengths)
    {
        Batch = batch;
        SequenceLength = sequenceLength;
        Lengths = lengths;
        Hidden = new float[batch * sequenceLength * modelDim];
        CrossKeys = new float[decoderLayers][];
        CrossValues = new float[decoderLayers][];
        for (int l = 0; l < decoderLayers; l++)
        {
            CrossKeys[l] = new float[batch * sequenceLength * attentionDim];
            CrossValues[l] = new float[batch * sequenceLength * attentionDim];
        }
    }

    public int Batch { get; }

    public int SequenceLength { get; }

    public int[] Lengths { get; }

    /// <summary>[Batch, SequenceLength, d_model].</summary>
    public float[] Hidden { get; }

    public float[][] CrossKeys { get; }

    public float[][] CrossValues { get; }
}
