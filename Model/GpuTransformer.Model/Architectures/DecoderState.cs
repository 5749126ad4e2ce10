using GpuTransformer.Runtime;

namespace GpuTransformer.Model.Architectures;

/// <summary>
/// The decoder's running state for a set of rows (batch × beams), on the model's accelerator: the self-attention KV
/// cache of every layer, laid out [row, capacity, heads × head size] so a step appends in place, and every scratch
/// buffer a step needs, sized once so a step allocates nothing.
/// </summary>
internal sealed class DecoderState : IDisposable
{
    private readonly List<IDisposable> owned = [];
    private readonly MemoryBuffer<float>[] selfKeys;
    private readonly MemoryBuffer<float>[] selfValues;

    public DecoderState(Accelerator accelerator, EncoderOutput encoder, int rowsPerSequence, int capacity, int positionsPerCall, int modelDim, int attentionDim, int ffnDim, int vocab, int layers)
    {
        Encoder = encoder;
        RowsPerSequence = rowsPerSequence;
        Rows = encoder.Batch * rowsPerSequence;
        Capacity = capacity;
        MaxPositionsPerCall = positionsPerCall;
        selfKeys = new MemoryBuffer<float>[layers];
        selfValues = new MemoryBuffer<float>[layers];
        try
        {
            for (int l = 0; l < layers; l++)
            {
                selfKeys[l] = Allocate<float>(accelerator, Rows * capacity * attentionDim);
                selfValues[l] = Allocate<float>(accelerator, Rows * capacity * attentionDim);
            }

            int tokens = Rows * positionsPerCall;
            Tokens = Allocate<int>(accelerator, tokens);
            PositionIds = Allocate<int>(accelerator, tokens);
            HostPositionIds = new int[tokens];
            Hidden = Allocate<float>(accelerator, tokens * modelDim).View;
            Normed = Allocate<float>(accelerator, tokens * modelDim).View;
            Query = Allocate<float>(accelerator, tokens * attentionDim).View;
            Context = Allocate<float>(accelerator, tokens * attentionDim).View;
            Projected = Allocate<float>(accelerator, tokens * modelDim).View;
            Ffn = Allocate<float>(accelerator, tokens * ffnDim).View;
            FfnGate = Allocate<float>(accelerator, tokens * ffnDim).View;
            Logits = Allocate<float>(accelerator, tokens * vocab).View;
            ReorderScratch = Allocate<float>(accelerator, Rows * capacity * attentionDim).View;
            SourceRows = Allocate<int>(accelerator, Rows);
            WrittenRows = Allocate<int>(accelerator, Rows);
            HostSourceRows = new int[Rows];
            HostWrittenRows = new int[Rows];
        }
        catch
        {
            Dispose();
            throw;
        }
    }

    public EncoderOutput Encoder { get; }

    /// <summary>Rows that share one encoder sequence (the beams).</summary>
    public int RowsPerSequence { get; }

    public int Rows { get; }

    public int Capacity { get; }

    public int MaxPositionsPerCall { get; }

    /// <summary>Positions already in the cache.</summary>
    public int Length { get; set; }

    public ArrayView<float> SelfKeys(int layer) => selfKeys[layer].View;

    public ArrayView<float> SelfValues(int layer) => selfValues[layer].View;

    public int Layers => selfKeys.Length;

    /// <summary>The decoder input ids of one call, [rows, positions].</summary>
    public MemoryBuffer<int> Tokens { get; }

    /// <summary>Position ids of one call, for families that count them from the ids (M2M100).</summary>
    public MemoryBuffer<int> PositionIds { get; }

    /// <summary>The host side of <see cref="PositionIds"/>, reused every step.</summary>
    public int[] HostPositionIds { get; }

    public ArrayView<float> Hidden { get; }

    /// <summary>The normed input of a pre-norm sub-layer.</summary>
    public ArrayView<float> Normed { get; }

    public ArrayView<float> Query { get; }

    public ArrayView<float> Context { get; }

    public ArrayView<float> Projected { get; }

    public ArrayView<float> Ffn { get; }

    public ArrayView<float> FfnGate { get; }

    /// <summary>The logits of the last call, [rows, positions, vocab].</summary>
    public ArrayView<float> Logits { get; }

    public ArrayView<float> ReorderScratch { get; }

    /// <summary>Beam search's reorder of one step: for each row the row it continues, or -1 where that is itself (nothing to copy).</summary>
    public MemoryBuffer<int> SourceRows { get; }

    /// <summary>For each row, itself where the reorder rewrites it, else -1: copies the gathered rows back in place.</summary>
    public MemoryBuffer<int> WrittenRows { get; }

    /// <summary>Host staging of <see cref="SourceRows"/>, reused every step.</summary>
    public int[] HostSourceRows { get; }

    /// <summary>Host staging of <see cref="WrittenRows"/>, reused every step.</summary>
    public int[] HostWrittenRows { get; }

    /// <summary>T5's decoder self-attention bias for every (query, key) position pair, [heads, capacity, capacity]; empty otherwise.</summary>
    public ArrayView<float> SelfBias { get; set; }

    /// <summary>Takes ownership of a buffer made for this state.</summary>
    public MemoryBuffer<T> Own<T>(MemoryBuffer<T> buffer)
        where T : unmanaged
    {
        owned.Add(buffer);
        return buffer;
    }

    public void Dispose()
    {
        foreach (var item in owned)
        {
            item.Dispose();
        }

        owned.Clear();
    }

    private MemoryBuffer<T> Allocate<T>(Accelerator accelerator, int length)
        where T : unmanaged => Own(accelerator.Allocate<T>(length));
}
