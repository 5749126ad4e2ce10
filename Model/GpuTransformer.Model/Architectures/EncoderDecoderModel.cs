using GpuTransformer.Kernels;
using GpuTransformer.Model.Configuration;
using GpuTransformer.Model.Weights;
using GpuTransformer.Runtime;

namespace GpuTransformer.Model.Architectures;

/// <summary>
/// One encoder-decoder runtime for every supported family, computing exactly what HF's modeling files compute, on any
/// accelerator: every step is an op facade (<see cref="Gemm"/>, <see cref="Attention"/>, <see cref="Normalization"/>,
/// ...), so weights, activations and the KV cache stay on the device. The family's differences (norm placement and
/// kind, positions, embedding scaling, attention scaling, biases, gating, output rescaling) come from its
/// <see cref="ArchitectureSpec"/>; its weight names from <see cref="ModelWeightLoader"/>.
/// </summary>
internal sealed class EncoderDecoderModel : IDisposable
{
    private readonly ModelWeights w;
    private readonly float embeddingScale;
    private readonly float attentionScale;

    private EncoderDecoderModel(Accelerator accelerator, ModelConfig config, ArchitectureSpec spec, ModelWeights weights)
    {
        Accelerator = accelerator;
        Config = config;
        Spec = spec;
        w = weights;
        D = config.DModel;
        Heads = config.DecoderAttentionHeads;
        HeadDim = config.DecoderHeadDim;
        embeddingScale = spec.ScaleEmbedding ? MathF.Sqrt(D) : 1f;
        attentionScale = spec.ScaleAttention ? 1f / MathF.Sqrt(HeadDim) : 1f;
    }

    public Accelerator Accelerator { get; }

    public ModelConfig Config { get; }

    public ArchitectureSpec Spec { get; }

    /// <summary>d_model.</summary>
    public int D { get; }

    public int Heads { get; }

    public int HeadDim { get; }

    /// <summary>Width of the attention projections: heads × head size (T5's d_kv need not divide d_model).</summary>
    public int AttentionDim => Heads * HeadDim;

    public int SourceVocabSize => Config.VocabSize;

    public int TargetVocabSize => Config.DecoderVocabSize;

    /// <summary>Longest input or decoder sequence the position encoding allows (T5: its configured n_positions).</summary>
    public int MaxPositions => Config.MaxPositionEmbeddings;

    /// <summary>Bytes of device memory the weights occupy.</summary>
    public long WeightBytes => w.Bytes;

    /// <summary>
    /// Reads every tensor the architecture needs and uploads it; a missing or mis-shaped one is a
    /// <see cref="ModelFormatException"/>. <paramref name="computeType"/> int8 quantizes the layers' linear weights
    /// (not the embeddings; the output projection only with <paramref name="int8OutputProjection"/>).
    /// </summary>
    public static EncoderDecoderModel Load(ModelConfig config, WeightStore weights, Accelerator accelerator, ComputeType computeType = ComputeType.Float32, bool int8OutputProjection = false)
    {
        var spec = ArchitectureSpec.For(config);
        var loaded = ModelWeightLoader.Load(config, spec, weights, accelerator, computeType, int8OutputProjection);
        try
        {
            return new EncoderDecoderModel(accelerator, config, spec, loaded);
        }
        catch
        {
            loaded.Dispose();
            throw;
        }
    }

    /// <summary>Runs the encoder over a right-padded batch and precomputes every decoder layer's cross-attention K/V.</summary>
    /// <param name="ids">[batch, sequenceLength] token ids, padded on the right.</param>
    /// <param name="batch">Sequences.</param>
    /// <param name="sequenceLength">Padded length.</param>
    /// <param name="lengths">Valid tokens per sequence (the attention mask).</param>
    /// <returns>The encoder output; dispose it.</returns>
    public EncoderOutput Encode(ReadOnlySpan<int> ids, int batch, int sequenceLength, ReadOnlySpan<int> lengths)
    {
        if (sequenceLength > MaxPositions && Spec.Positions != PositionEncoding.RelativeBuckets)
        {
            throw new ArgumentException($"input of {sequenceLength} tokens exceeds max_position_embeddings {MaxPositions}", nameof(sequenceLength));
        }

        CheckIds(ids, SourceVocabSize, nameof(ids));
        var acc = Accelerator;
        int heads = Config.EncoderAttentionHeads, inner = heads * Config.EncoderHeadDim;
        int rows = batch * sequenceLength;
        int ffnDim = w.EncoderLayers.Length > 0 ? w.EncoderLayers[0].FeedForward.Width : 1;
        bool gated = w.EncoderLayers.Length > 0 && w.EncoderLayers[0].FeedForward.Gate is not null;
        var output = new EncoderOutput(acc, batch, sequenceLength, D, AttentionDim, w.DecoderLayers.Length, lengths.ToArray());
        try
        {
            using var idBuffer = acc.Upload(ids);
            using var positionIds = acc.Allocate<int>(Spec.PositionPaddingId is null ? 0 : rows);
            using var normed = acc.Allocate<float>(rows * D);
            using var q = acc.Allocate<float>(rows * inner);
            using var k = acc.Allocate<float>(rows * inner);
            using var v = acc.Allocate<float>(rows * inner);
            using var context = acc.Allocate<float>(rows * inner);
            using var projected = acc.Allocate<float>(rows * D);
            using var ffn = acc.Allocate<float>(rows * ffnDim);
            using var gate = acc.Allocate<float>(gated ? rows * ffnDim : 0);
            using var bias = acc.Allocate<float>(w.EncoderPositionBias is null ? 0 : heads * sequenceLength * sequenceLength);
            if (w.EncoderPositionBias is not null)
            {
                var host = new float[heads * sequenceLength * sequenceLength];
                w.EncoderPositionBias.Compute(0, sequenceLength, sequenceLength, host);
                bias.CopyFrom(host);
            }

            var x = output.Hidden;
            Embed(idBuffer.View, ids, w.EncoderEmbedding, w.EncoderPositions, 0, sequenceLength, x, positionIds, new int[positionIds.Length]);
            w.EncoderEmbeddingNorm?.Normalize(acc, x, x, rows);
            var layout = new AttentionLayout
            {
                Batch = batch,
                Heads = heads,
                HeadDim = Config.EncoderHeadDim,
                QueryLength = sequenceLength,
                KeyLength = sequenceLength,
                QueryRowStride = inner,
                QueryBatchStride = (long)sequenceLength * inner,
                KeyValueRowStride = inner,
                KeyValueBatchStride = (long)sequenceLength * inner,
                Scale = Spec.ScaleAttention ? 1f / MathF.Sqrt(Config.EncoderHeadDim) : 1f,
            }.WithDenseBias();
            foreach (var layer in w.EncoderLayers)
            {
                var attention = layer.SelfAttention;
                var input = PreNorm(layer.SelfAttentionNorm, x, normed.View, rows);
                Gemm.Linear(acc, input, attention.Query, q.View, rows);
                Gemm.Linear(acc, input, attention.Key, k.View, rows);
                Gemm.Linear(acc, input, attention.Value, v.View, rows);
                Attention.Attend(acc, q.View, k.View, v.View, context.View, layout, output.LengthsView, bias.View);
                Gemm.Linear(acc, context.View, attention.Output, projected.View, rows);
                Residual(layer.SelfAttentionNorm, x, projected.View, rows);

                input = PreNorm(layer.FeedForwardNorm, x, normed.View, rows);
                layer.FeedForward.Apply(acc, input, projected.View, rows, Spec.Activation, ffn.View, gate.View);
                Residual(layer.FeedForwardNorm, x, projected.View, rows);
            }

            w.EncoderFinalNorm?.Normalize(acc, x, x, rows);
            for (int l = 0; l < w.DecoderLayers.Length; l++)
            {
                Gemm.Linear(acc, x, w.DecoderLayers[l].CrossAttention.Key, output.CrossKeys(l), rows);
                Gemm.Linear(acc, x, w.DecoderLayers[l].CrossAttention.Value, output.CrossValues(l), rows);
            }

            return output;
        }
        catch
        {
            output.Dispose();
            throw;
        }
    }

    /// <summary>Creates decoder state for <paramref name="rowsPerSequence"/> rows per encoder sequence.</summary>
    /// <param name="encoder">The encoder run the rows attend to.</param>
    /// <param name="rowsPerSequence">Beams (1 for greedy).</param>
    /// <param name="capacity">Most positions the cache will hold.</param>
    /// <param name="positionsPerCall">Most positions one <see cref="Decode"/> call appends.</param>
    /// <returns>The state; dispose it.</returns>
    public DecoderState CreateDecoderState(EncoderOutput encoder, int rowsPerSequence, int capacity, int positionsPerCall = 1)
    {
        if (capacity > MaxPositions && Spec.Positions != PositionEncoding.RelativeBuckets)
        {
            throw new ArgumentException($"decoder length {capacity} exceeds max_position_embeddings {MaxPositions}", nameof(capacity));
        }

        int ffnDim = w.DecoderLayers.Length > 0 ? w.DecoderLayers[0].FeedForward.Width : 1;
        var state = new DecoderState(Accelerator, encoder, rowsPerSequence, capacity, positionsPerCall, D, AttentionDim, ffnDim, TargetVocabSize, w.DecoderLayers.Length);
        if (w.DecoderPositionBias is not null)
        {
            // The causal bias depends only on (query position, key position): computed once for the whole capacity.
            var host = new float[Heads * capacity * capacity];
            w.DecoderPositionBias.Compute(0, capacity, capacity, host);
            state.SelfBias = state.Own(Accelerator.Upload<float>(host)).View;
        }

        return state;
    }

    /// <summary>
    /// Appends <paramref name="count"/> positions to every row and leaves the logits of each appended position in
    /// <see cref="DecoderState.Logits"/>. With count 1 this is one incremental generation step; with a whole target it
    /// is teacher forcing.
    /// </summary>
    /// <param name="state">The rows' state; its cache grows by <paramref name="count"/>.</param>
    /// <param name="tokens">[rows, count] decoder input ids.</param>
    /// <param name="count">Positions per row.</param>
    public void Decode(DecoderState state, ReadOnlySpan<int> tokens, int count)
    {
        int start = state.Length;
        if (count > state.MaxPositionsPerCall || start + count > state.Capacity)
        {
            throw new InvalidOperationException($"decoder state holds {state.Capacity} positions ({start} used); cannot append {count}");
        }

        if (tokens.Length != state.Rows * count)
        {
            throw new ArgumentException($"{tokens.Length} tokens for {state.Rows} rows of {count}", nameof(tokens));
        }

        CheckIds(tokens, TargetVocabSize, nameof(tokens));
        state.Tokens.CopyFrom(tokens);
        var acc = Accelerator;
        int rows = state.Rows * count, inner = AttentionDim;
        var x = state.Hidden.SubView(0, rows * D);
        var normed = state.Normed.SubView(0, rows * D);
        var q = state.Query.SubView(0, rows * inner);
        var context = state.Context.SubView(0, rows * inner);
        var projected = state.Projected.SubView(0, rows * D);
        Embed(state.Tokens.View, tokens, w.DecoderEmbedding, w.DecoderPositions, start, count, x, state.PositionIds, state.HostPositionIds);
        w.DecoderEmbeddingNorm?.Normalize(acc, x, x, rows);

        var selfLayout = new AttentionLayout
        {
            Batch = state.Rows,
            Heads = Heads,
            HeadDim = HeadDim,
            QueryLength = count,
            KeyLength = start + count,
            QueryRowStride = inner,
            QueryBatchStride = (long)count * inner,
            KeyValueRowStride = inner,
            KeyValueBatchStride = (long)state.Capacity * inner,
            Causal = true,
            CausalOffset = start,
            Scale = attentionScale,
            BiasHeadStride = (long)state.Capacity * state.Capacity,
            BiasRowStride = state.Capacity,
            BiasRowOffset = start,
        };
        var encoder = state.Encoder;
        var crossLayout = new AttentionLayout
        {
            Batch = state.Rows,
            Heads = Heads,
            HeadDim = HeadDim,
            QueryLength = count,
            KeyLength = encoder.SequenceLength,
            QueryRowStride = inner,
            QueryBatchStride = (long)count * inner,
            KeyValueRowStride = inner,
            KeyValueBatchStride = (long)encoder.SequenceLength * inner,
            KeyValueGroup = state.RowsPerSequence,
            Scale = attentionScale,
        };

        // The step's keys and values go straight into their slots of the cache: rows of `count` positions, one
        // block per decoder row, `capacity` positions apart.
        var stepRows = new RowLayout(state.Rows, count, D, (long)count * D);
        var cacheRows = new RowLayout(state.Rows, count, inner, (long)state.Capacity * inner);
        for (int l = 0; l < w.DecoderLayers.Length; l++)
        {
            var layer = w.DecoderLayers[l];
            var self = layer.SelfAttention;
            var input = PreNorm(layer.SelfAttentionNorm, x, normed, rows);
            var keys = state.SelfKeys(l);
            var values = state.SelfValues(l);
            Gemm.Linear(acc, input, self.Query, q, rows);
            Gemm.Linear(acc, input, stepRows, self.Key, keys.SubView(start * inner), cacheRows);
            Gemm.Linear(acc, input, stepRows, self.Value, values.SubView(start * inner), cacheRows);
            Attention.Attend(acc, q, keys, values, context, selfLayout, default, state.SelfBias);
            Gemm.Linear(acc, context, self.Output, projected, rows);
            Residual(layer.SelfAttentionNorm, x, projected, rows);

            var cross = layer.CrossAttention;
            input = PreNorm(layer.CrossAttentionNorm, x, normed, rows);
            Gemm.Linear(acc, input, cross.Query, q, rows);
            Attention.Attend(acc, q, encoder.CrossKeys(l), encoder.CrossValues(l), context, crossLayout, encoder.LengthsView);
            Gemm.Linear(acc, context, cross.Output, projected, rows);
            Residual(layer.CrossAttentionNorm, x, projected, rows);

            input = PreNorm(layer.FeedForwardNorm, x, normed, rows);
            layer.FeedForward.Apply(acc, input, projected, rows, Spec.Activation, state.Ffn, state.FfnGate);
            Residual(layer.FeedForwardNorm, x, projected, rows);
        }

        w.DecoderFinalNorm?.Normalize(acc, x, x, rows);
        if (Spec.RescaleTiedOutput)
        {
            Elementwise.Scale(acc, x, 1f / MathF.Sqrt(D), rows * D);
        }

        state.Length = start + count;
        Gemm.Linear(acc, x, w.OutputProjection, state.Logits, rows);
    }

    /// <summary>Makes row <c>r</c> of the cache a copy of row <c>sourceRows[r]</c> (beam search keeps the survivors).</summary>
    /// <param name="state">The rows' state.</param>
    /// <param name="sourceRows">For each row, the row it continues.</param>
    public void ReorderCache(DecoderState state, ReadOnlySpan<int> sourceRows)
    {
        bool identity = true;
        for (int r = 0; r < sourceRows.Length; r++)
        {
            identity &= sourceRows[r] == r;
        }

        int used = state.Length * AttentionDim, stride = state.Capacity * AttentionDim;
        if (identity || used == 0)
        {
            return;
        }

        // Only rows that continue another row are copied (into the scratch, then back): a beam that continues itself
        // keeps its cache where it is, which in beam search is most of them at most steps.
        for (int r = 0; r < sourceRows.Length; r++)
        {
            bool moved = sourceRows[r] != r;
            state.HostSourceRows[r] = moved ? sourceRows[r] : RowGather.Keep;
            state.HostWrittenRows[r] = moved ? r : RowGather.Keep;
        }

        state.SourceRows.CopyFrom(state.HostSourceRows);
        state.WrittenRows.CopyFrom(state.HostWrittenRows);
        for (int l = 0; l < state.Layers; l++)
        {
            foreach (var cache in (ReadOnlySpan<ArrayView<float>>)[state.SelfKeys(l), state.SelfValues(l)])
            {
                RowGather.Gather(Accelerator, cache, state.ReorderScratch, state.SourceRows.View, state.Rows, stride, used);
                RowGather.Gather(Accelerator, state.ReorderScratch, cache, state.WrittenRows.View, state.Rows, stride, used);
            }
        }
    }

    public void Dispose()
    {
        w.Dispose();
    }

    private static void CheckIds(ReadOnlySpan<int> ids, int vocab, string name)
    {
        foreach (int id in ids)
        {
            if ((uint)id >= (uint)vocab)
            {
                throw new ArgumentOutOfRangeException(name, id, $"token id outside the vocabulary of {vocab}");
            }
        }
    }

    /// <summary>The input of a sub-layer: its normed input in a pre-norm family, the residual stream itself otherwise.</summary>
    private ArrayView<float> PreNorm(NormWeights norm, ArrayView<float> x, ArrayView<float> normed, int rows)
    {
        if (!Spec.PreNorm)
        {
            return x;
        }

        norm.Normalize(Accelerator, x, normed, rows);
        return normed.SubView(0, rows * D);
    }

    /// <summary>Adds a sub-layer's output to the residual stream, then (post-norm) normalizes the sum.</summary>
    private void Residual(NormWeights norm, ArrayView<float> x, ArrayView<float> output, int rows)
    {
        if (Spec.PreNorm)
        {
            Elementwise.Add(Accelerator, output, x, rows * D);
        }
        else
        {
            norm.AddAndNormalize(Accelerator, x, output, x, rows);
        }
    }

    /// <summary>
    /// Token embeddings plus positions. M2M100 numbers only the non-padding tokens of each call (HF's cumsum over the
    /// new ids, plus the cache length) and gives a padding token the zero row padding_idx, so its position ids are
    /// computed here from the ids, which the host has, and uploaded with them.
    /// </summary>
    private void Embed(ArrayView<int> ids, ReadOnlySpan<int> hostIds, LinearWeight table, ArrayView<float> positions, int firstPosition, int positionsPerSequence, ArrayView<float> x, MemoryBuffer<int> positionIds, int[] hostPositionIds)
    {
        int count = hostIds.Length;
        ArrayView<int> explicitPositions = default;
        if (Spec.PositionPaddingId is int padding)
        {
            int counted = 0;
            for (int t = 0; t < count; t++)
            {
                counted = t % positionsPerSequence == 0 ? 0 : counted;
                hostPositionIds[t] = hostIds[t] == padding ? padding - Spec.PositionOffset : firstPosition + counted++;
            }

            positionIds.CopyFrom(hostPositionIds.AsSpan(0, count));
            explicitPositions = positionIds.View.SubView(0, count);
        }

        Embedding.Lookup(Accelerator, ids, count, table, embeddingScale, positions, w.PositionRows, explicitPositions, firstPosition, positionsPerSequence, Spec.PositionOffset, x);
    }
}
