namespace GpuTransformer.Model.Architectures;

/// <summary>
/// The decoder's running state for a set of rows (batch × beams): the self-attention KV cache of every layer, laid out
/// [row, capacity, d_model] so a step appends in place, and scratch buffers sized once so a step allocates nothing.
/// </summary>
internal sealed class DecoderState
{
    public DecoderState(EncoderOutput encoder, int rowsPerSequence, int capacity, int positionsPerCall, int modelDim, int attentionDim, int ffnDim, int heads, int layers)
    {
        Encoder = encoder;
        RowsPerSequence = rowsPerSequence;
        Rows = encoder.Batch * rowsPerSequence;
        Capacity = capacity;
        MaxPositionsPerCall = positionsPerCall;
        SelfKeys = new float[layers][];
        SelfValues = new float[layers][];
        for (int l = 0; l < layers; l++)
        {
            SelfKeys[l] = new float[Rows * capacity * attentionDim];
            SelfValues[l] = new float[Rows * capacity * attentionDim];
        }

        int tokens = Rows * positionsPerCall;
        Hidden = new float[tokens * modelDim];
        Normed = new float[tokens * modelDim];
        Query = new float[tokens * attentionDim];
        Key = new float[tokens * attentionDim];
        Value = new float[tokens * attentionDim];
        Context = new float[tokens * attentionDim];
        Projected = new float[tokens * modelDim];
        Ffn = new float[tokens * ffnDim];
        FfnGate = new float[tokens * ffnDim];
        SelfBias = new float[heads * positionsPerCall * capacity];
        ReorderScratch = new float[Rows * capacity * attentionDim];
    }

    public EncoderOutput Encoder { get; }

    /// <summary>Rows that share one encoder sequence (the beams).</summary>
    public int RowsPerSequence { get; }

    public int Rows { get; }

    public int Capacity { get; }

    public int MaxPositionsPerCall { get; }

    /// <summary>Positions already in the cache.</summary>
    public int Length { get; set; }

    public float[][] SelfKeys { get; }

    public float[][] SelfValues { get; }

    public float[] Hidden { get; }

    /// <summary>The normed input of a pre-norm sub-layer.</summary>
    public float[] Normed { get; }

    public float[] Query { get; }

    public float[] Key { get; }

    public float[] Value { get; }

    public float[] Context { get; }

    public float[] Projected { get; }

    public float[] Ffn { get; }

    public float[] FfnGate { get; }

    /// <summary>T5's self-attention position bias for one call, [heads, positions, keys].</summary>
    public float[] SelfBias { get; }

    public float[] ReorderScratch { get; }
}
