using GpuTransformer.Kernels;
using GpuTransformer.Kernels.Cpu;
using GpuTransformer.Model.Configuration;
using GpuTransformer.Model.Weights;

namespace GpuTransformer.Model.Architectures;

/// <summary>
/// One encoder-decoder runtime for every supported family, computing exactly what HF's modeling files compute. The
/// family's differences (norm placement and kind, positions, embedding scaling, attention scaling, biases, gating,
/// output rescaling) come from its <see cref="ArchitectureSpec"/>; its weight names from <see cref="ModelWeightLoader"/>.
/// Runs on the CPU ops.
/// </summary>
internal sealed class EncoderDecoderModel
{
    private readonly ModelWeightLoader.Loaded w;
    private readonly float embeddingScale;
    private readonly float attentionScale;

    private EncoderDecoderModel(ModelConfig config, ArchitectureSpec spec, ModelWeightLoader.Loaded weights)
    {
        Config = config;
        Spec = spec;
        w = weights;
        D = config.DModel;
        Heads = config.DecoderAttentionHeads;
        HeadDim = config.DecoderHeadDim;
        embeddingScale = spec.ScaleEmbedding ? MathF.Sqrt(D) : 1f;
        attentionScale = spec.ScaleAttention ? 1f / MathF.Sqrt(HeadDim) : 1f;
    }

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

    /// <summary>Reads every tensor the architecture needs; a missing or mis-shaped one is a <see cref="ModelFormatException"/>.</summary>
    public static EncoderDecoderModel Load(ModelConfig config, WeightStore weights)
    {
        var spec = ArchitectureSpec.For(config);
        return new EncoderDecoderModel(config, spec, ModelWeightLoader.Load(config, spec, weights));
    }

    /// <summary>Runs the encoder over a right-padded batch and precomputes every decoder layer's cross-attention K/V.</summary>
    /// <param name="ids">[batch, sequenceLength] token ids, padded on the right.</param>
    /// <param name="batch">Sequences.</param>
    /// <param name="sequenceLength">Padded length.</param>
    /// <param name="lengths">Valid tokens per sequence (the attention mask).</param>
    public EncoderOutput Encode(ReadOnlySpan<int> ids, int batch, int sequenceLength, ReadOnlySpan<int> lengths)
    {
        if (sequenceLength > MaxPositions && Spec.Positions != PositionEncoding.RelativeBuckets)
        {
            throw new ArgumentException($"input of {sequenceLength} tokens exceeds max_position_embeddings {MaxPositions}", nameof(sequenceLength));
        }

        int heads = Config.EncoderAttentionHeads, inner = heads * Config.EncoderHeadDim;
        var output = new EncoderOutput(batch, sequenceLength, D, AttentionDim, w.DecoderLayers.Length, lengths.ToArray());
        int rows = batch * sequenceLength;
        float[] x = output.Hidden;
        Embed(ids, w.EncoderEmbedding, SourceVocabSize, w.EncoderPositions, 0, sequenceLength, x);
        w.EncoderEmbeddingNorm?.Normalize(x, x, rows);

        int ffnDim = w.EncoderLayers.Length > 0 ? w.EncoderLayers[0].FeedForward.Width : 1;
        var normed = new float[rows * D];
        var q = new float[rows * inner];
        var k = new float[rows * inner];
        var v = new float[rows * inner];
        var context = new float[rows * inner];
        var projected = new float[rows * D];
        var ffn = new float[rows * ffnDim];
        var gate = new float[w.EncoderLayers.Length > 0 && w.EncoderLayers[0].FeedForward.Gate is not null ? rows * ffnDim : 0];
        float[] bias = [];
        if (w.EncoderPositionBias is not null)
        {
            bias = new float[heads * sequenceLength * sequenceLength];
            w.EncoderPositionBias.Compute(0, sequenceLength, sequenceLength, bias);
        }

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
        };
        foreach (var layer in w.EncoderLayers)
        {
            var attention = layer.SelfAttention;
            var input = PreNorm(layer.SelfAttentionNorm, x, normed, rows);
            attention.Query.Apply(input, q, rows);
            attention.Key.Apply(input, k, rows);
            attention.Value.Apply(input, v, rows);
            CpuAttention.Attend(q, k, v, context, layout, lengths, bias);
            attention.Output.Apply(context, projected, rows);
            Residual(layer.SelfAttentionNorm, x, projected, rows);

            input = PreNorm(layer.FeedForwardNorm, x, normed, rows);
            layer.FeedForward.Apply(input, projected, rows, Spec.Activation, ffn, gate);
            Residual(layer.FeedForwardNorm, x, projected, rows);
        }

        w.EncoderFinalNorm?.Normalize(x, x, rows);
        for (int l = 0; l < w.DecoderLayers.Length; l++)
        {
            w.DecoderLayers[l].CrossAttention.Key.Apply(x, output.CrossKeys[l], rows);
            w.DecoderLayers[l].CrossAttention.Value.Apply(x, output.CrossValues[l], rows);
        }

        return output;
    }

    /// <summary>Creates decoder state for <paramref name="rowsPerSequence"/> rows per encoder sequence.</summary>
    /// <param name="encoder">The encoder run the rows attend to.</param>
    /// <param name="rowsPerSequence">Beams (1 for greedy).</param>
    /// <param name="capacity">Most positions the cache will hold.</param>
    /// <param name="positionsPerCall">Most positions one <see cref="Decode"/> call appends.</param>
    public DecoderState CreateDecoderState(EncoderOutput encoder, int rowsPerSequence, int capacity, int positionsPerCall = 1)
    {
        if (capacity > MaxPositions && Spec.Positions != PositionEncoding.RelativeBuckets)
        {
            throw new ArgumentException($"decoder length {capacity} exceeds max_position_embeddings {MaxPositions}", nameof(capacity));
        }

        int ffnDim = w.DecoderLayers.Length > 0 ? w.DecoderLayers[0].FeedForward.Width : 1;
        return new DecoderState(encoder, rowsPerSequence, capacity, positionsPerCall, D, AttentionDim, ffnDim, Heads, w.DecoderLayers.Length);
    }

    /// <summary>
    /// Appends <paramref name="count"/> positions to every row and writes the logits of each appended position.
    /// With count 1 this is one incremental generation step; with a whole target it is teacher forcing.
    /// </summary>
    /// <param name="state">The rows' state; its cache grows by <paramref name="count"/>.</param>
    /// <param name="tokens">[rows, count] decoder input ids.</param>
    /// <param name="count">Positions per row.</param>
    /// <param name="logits">[rows, count, target vocab] output.</param>
    public void Decode(DecoderState state, ReadOnlySpan<int> tokens, int count, Span<float> logits)
    {
        int start = state.Length;
        if (count > state.MaxPositionsPerCall || start + count > state.Capacity)
        {
            throw new InvalidOperationException($"decoder state holds {state.Capacity} positions ({start} used); cannot append {count}");
        }

        int rows = state.Rows * count, inner = AttentionDim;
        Span<float> x = state.Hidden.AsSpan(0, rows * D);
        Span<float> normed = state.Normed.AsSpan(0, rows * D);
        Span<float> q = state.Query.AsSpan(0, rows * inner);
        Span<float> k = state.Key.AsSpan(0, rows * inner);
        Span<float> v = state.Value.AsSpan(0, rows * inner);
        Span<float> context = state.Context.AsSpan(0, rows * inner);
        Span<float> projected = state.Projected.AsSpan(0, rows * D);
        Embed(tokens, w.DecoderEmbedding, TargetVocabSize, w.DecoderPositions, start, count, x);
        w.DecoderEmbeddingNorm?.Normalize(x, x, rows);

        Span<float> selfBias = default;
        if (w.DecoderPositionBias is not null)
        {
            selfBias = state.SelfBias.AsSpan(0, Heads * count * (start + count));
            w.DecoderPositionBias.Compute(start, count, start + count, selfBias);
        }

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

        for (int l = 0; l < w.DecoderLayers.Length; l++)
        {
            var layer = w.DecoderLayers[l];
            var self = layer.SelfAttention;
            var input = PreNorm(layer.SelfAttentionNorm, x, normed, rows);
            self.Query.Apply(input, q, rows);
            self.Key.Apply(input, k, rows);
            self.Value.Apply(input, v, rows);
            AppendToCache(state, state.SelfKeys[l], k, start, count);
            AppendToCache(state, state.SelfValues[l], v, start, count);
            CpuAttention.Attend(q, state.SelfKeys[l], state.SelfValues[l], context, selfLayout, default, selfBias);
            self.Output.Apply(context, projected, rows);
            Residual(layer.SelfAttentionNorm, x, projected, rows);

            var cross = layer.CrossAttention;
            input = PreNorm(layer.CrossAttentionNorm, x, normed, rows);
            cross.Query.Apply(input, q, rows);
            CpuAttention.Attend(q, encoder.CrossKeys[l], encoder.CrossValues[l], context, crossLayout, encoder.Lengths);
            cross.Output.Apply(context, projected, rows);
            Residual(layer.CrossAttentionNorm, x, projected, rows);

            input = PreNorm(layer.FeedForwardNorm, x, normed, rows);
            layer.FeedForward.Apply(input, projected, rows, Spec.Activation, state.Ffn, state.FfnGate);
            Residual(layer.FeedForwardNorm, x, projected, rows);
        }

        w.DecoderFinalNorm?.Normalize(x, x, rows);
        if (Spec.RescaleTiedOutput)
        {
            float scale = 1f / MathF.Sqrt(D);
            foreach (ref float value in x)
            {
                value *= scale;
            }
        }

        state.Length = start + count;
        CpuGemm.Linear(x, w.OutputProjection, w.FinalLogitsBias, logits[..(rows * TargetVocabSize)], rows, TargetVocabSize, D);
    }

    /// <summary>Makes row <c>r</c> of the cache a copy of row <c>sourceRows[r]</c> (beam search keeps the survivors).</summary>
    /// <param name="state">The rows' state.</param>
    /// <param name="sourceRows">For each row, the row it continues.</param>
    public void ReorderCache(DecoderState state, ReadOnlySpan<int> sourceRows)
    {
        int used = state.Length * AttentionDim;
        long rowSize = (long)state.Capacity * AttentionDim;
        bool identity = true;
        for (int r = 0; r < sourceRows.Length; r++)
        {
            identity &= sourceRows[r] == r;
        }

        if (identity || used == 0)
        {
            return;
        }

        for (int c = 0; c < 2 * state.SelfKeys.Length; c++)
        {
            float[] cache = c < state.SelfKeys.Length ? state.SelfKeys[c] : state.SelfValues[c - state.SelfKeys.Length];
            for (int r = 0; r < state.Rows; r++)
            {
                cache.AsSpan((int)(sourceRows[r] * rowSize), used).CopyTo(state.ReorderScratch.AsSpan((int)(r * rowSize), used));
            }

            for (int r = 0; r < state.Rows; r++)
            {
                state.ReorderScratch.AsSpan((int)(r * rowSize), used).CopyTo(cache.AsSpan((int)(r * rowSize), used));
            }
        }
    }

    /// <summary>The input of a sub-layer: its normed input in a pre-norm family, the residual stream itself otherwise.</summary>
    private ReadOnlySpan<float> PreNorm(NormWeights norm, ReadOnlySpan<float> x, Span<float> normed, int rows)
    {
        if (!Spec.PreNorm)
        {
            return x;
        }

        norm.Normalize(x, normed, rows);
        return normed[..(rows * D)];
    }

    /// <summary>Adds a sub-layer's output to the residual stream, then (post-norm) normalizes the sum.</summary>
    private void Residual(NormWeights norm, Span<float> x, ReadOnlySpan<float> output, int rows)
    {
        if (Spec.PreNorm)
        {
            int n = rows * D;
            for (int i = 0; i < n; i++)
            {
                x[i] += output[i];
            }
        }
        else
        {
            norm.AddAndNormalize(x, output, x, rows);
        }
    }

    private void Embed(ReadOnlySpan<int> ids, float[] table, int vocab, float[]? positions, int firstPosition, int positionsPerSequence, Span<float> x)
    {
        int offset = Spec.PositionOffset;
        int counted = 0;
        for (int t = 0; t < ids.Length; t++)
        {
            int id = ids[t];
            if ((uint)id >= (uint)vocab)
            {
                throw new ArgumentOutOfRangeException(nameof(ids), id, $"token id outside the vocabulary of {vocab}");
            }

            var row = x.Slice(t * D, D);
            var embedding = table.AsSpan(id * D, D);
            if (positions is null)
            {
                for (int c = 0; c < D; c++)
                {
                    row[c] = embedding[c] * embeddingScale;
                }

                continue;
            }

            // M2M100 numbers only the non-padding tokens of each call (HF's cumsum over the new ids, plus the cache
            // length); a padding token reads the zero row padding_idx.
            int position;
            if (Spec.PositionPaddingId is int padding)
            {
                counted = t % positionsPerSequence == 0 ? 0 : counted;
                position = id == padding ? padding : firstPosition + counted++ + offset;
            }
            else
            {
                position = firstPosition + t % positionsPerSequence + offset;
            }

            var pos = positions.AsSpan(position * D, D);
            for (int c = 0; c < D; c++)
            {
                row[c] = embedding[c] * embeddingScale + pos[c];
            }
        }
    }

    private void AppendToCache(DecoderState state, float[] cache, ReadOnlySpan<float> values, int start, int count)
    {
        int inner = AttentionDim;
        for (int r = 0; r < state.Rows; r++)
        {
            values.Slice(r * count * inner, count * inner).CopyTo(cache.AsSpan((r * state.Capacity + start) * inner, count * inner));
        }
    }
}
