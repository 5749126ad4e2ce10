using GpuTransformer.Kernels;
using GpuTransformer.Kernels.Cpu;
using GpuTransformer.Model.Configuration;
using GpuTransformer.Model.Weights;

namespace GpuTransformer.Model.Architectures;

/// <summary>
/// The Marian (OPUS-MT) encoder-decoder exactly as HF's <c>modeling_marian.py</c> computes it: embeddings scaled by
/// sqrt(d_model) plus static sinusoidal positions, post-norm layers, the configured activation, and a tied output
/// projection plus <c>final_logits_bias</c>. Runs on the CPU ops.
/// </summary>
internal sealed class MarianModel
{
    private const float LayerNormEpsilon = 1e-5f;

    private readonly float[] encoderEmbedding;
    private readonly float[] decoderEmbedding;
    private readonly float[] outputProjection;
    private readonly float[] finalLogitsBias;
    private readonly float[] positions;
    private readonly EncoderLayerWeights[] encoderLayers;
    private readonly DecoderLayerWeights[] decoderLayers;
    private readonly float embeddingScale;

    private MarianModel(ModelConfig config, WeightStore weights)
    {
        Config = config;
        D = config.DModel;
        Activation = ActivationNames.TryParse(config.ActivationFunction, out var activation)
            ? activation
            : throw new ModelFormatException(config.SourceFile, "activation_function", $"unsupported activation_function '{config.ActivationFunction}'; supported: {string.Join(", ", ActivationNames.Supported)}");
        SourceVocabSize = config.VocabSize;
        TargetVocabSize = config.DecoderVocabSize;
        embeddingScale = config.ScaleEmbedding ? MathF.Sqrt(D) : 1f;
        positions = SinusoidalPositions.Create(config.MaxPositionEmbeddings, D);

        string encoderEmbeddingName = weights.Contains("model.encoder.embed_tokens.weight") && !config.ShareEncoderDecoderEmbeddings
            ? "model.encoder.embed_tokens.weight" : "model.shared.weight";
        encoderEmbedding = weights.ReadFloat32(encoderEmbeddingName, SourceVocabSize, D);
        if (config.ShareEncoderDecoderEmbeddings)
        {
            decoderEmbedding = encoderEmbedding;
        }
        else
        {
            decoderEmbedding = weights.ReadFloat32("model.decoder.embed_tokens.weight", TargetVocabSize, D);
        }

        outputProjection = config.TieWordEmbeddings ? decoderEmbedding : weights.ReadFloat32("lm_head.weight", TargetVocabSize, D);
        finalLogitsBias = weights.Contains("final_logits_bias") ? weights.ReadFloat32("final_logits_bias", 1, TargetVocabSize) : new float[TargetVocabSize];

        encoderLayers = new EncoderLayerWeights[config.EncoderLayers];
        for (int l = 0; l < encoderLayers.Length; l++)
        {
            string p = $"model.encoder.layers.{l}.";
            encoderLayers[l] = new EncoderLayerWeights(
                ReadAttention(weights, p + "self_attn."),
                ReadNorm(weights, p + "self_attn_layer_norm."),
                ReadLinear(weights, p + "fc1.", config.EncoderFfnDim, D),
                ReadLinear(weights, p + "fc2.", D, config.EncoderFfnDim),
                ReadNorm(weights, p + "final_layer_norm."));
        }

        decoderLayers = new DecoderLayerWeights[config.DecoderLayers];
        for (int l = 0; l < decoderLayers.Length; l++)
        {
            string p = $"model.decoder.layers.{l}.";
            decoderLayers[l] = new DecoderLayerWeights(
                ReadAttention(weights, p + "self_attn."),
                ReadNorm(weights, p + "self_attn_layer_norm."),
                ReadAttention(weights, p + "encoder_attn."),
                ReadNorm(weights, p + "encoder_attn_layer_norm."),
                ReadLinear(weights, p + "fc1.", config.DecoderFfnDim, D),
                ReadLinear(weights, p + "fc2.", D, config.DecoderFfnDim),
                ReadNorm(weights, p + "final_layer_norm."));
        }
    }

    public ModelConfig Config { get; }

    /// <summary>d_model.</summary>
    public int D { get; }

    public Activation Activation { get; }

    public int SourceVocabSize { get; }

    public int TargetVocabSize { get; }

    public int MaxPositions => Config.MaxPositionEmbeddings;

    public int DecoderLayerCount => decoderLayers.Length;

    /// <summary>Reads every tensor the architecture needs; a missing or mis-shaped one is a <see cref="ModelFormatException"/>.</summary>
    public static MarianModel Load(ModelConfig config, WeightStore weights) => new(config, weights);

    /// <summary>
    /// Runs the encoder over a right-padded batch and precomputes every decoder layer's cross-attention K/V.
    /// </summary>
    /// <param name="ids">[batch, sequenceLength] token ids, padded on the right.</param>
    /// <param name="batch">Sequences.</param>
    /// <param name="sequenceLength">Padded length.</param>
    /// <param name="lengths">Valid tokens per sequence (the attention mask).</param>
    public EncoderOutput Encode(ReadOnlySpan<int> ids, int batch, int sequenceLength, ReadOnlySpan<int> lengths)
    {
        if (sequenceLength > MaxPositions)
        {
            throw new ArgumentException($"input of {sequenceLength} tokens exceeds max_position_embeddings {MaxPositions}", nameof(sequenceLength));
        }

        var output = new EncoderOutput(batch, sequenceLength, D, decoderLayers.Length, lengths.ToArray());
        int rows = batch * sequenceLength;
        float[] x = output.Hidden;
        Embed(ids, encoderEmbedding, SourceVocabSize, 0, sequenceLength, x);

        int ffnDim = encoderLayers.Length > 0 ? encoderLayers[0].Fc1.Out : 0;
        var q = new float[rows * D];
        var k = new float[rows * D];
        var v = new float[rows * D];
        var context = new float[rows * D];
        var ffn = new float[rows * Math.Max(ffnDim, 1)];
        var layout = SelfLayout(batch, sequenceLength, Config.EncoderAttentionHeads, causal: false);
        foreach (var layer in encoderLayers)
        {
            var attention = layer.SelfAttention;
            attention.Query.Apply(x, q, rows);
            attention.Key.Apply(x, k, rows);
            attention.Value.Apply(x, v, rows);
            CpuAttention.Attend(q, k, v, context, layout, lengths);
            attention.Output.Apply(context, q, rows);
            layer.SelfAttentionNorm.AddAndNormalize(x, q, x, rows);

            layer.Fc1.Apply(x, ffn, rows, Activation);
            layer.Fc2.Apply(ffn, q, rows);
            layer.FinalNorm.AddAndNormalize(x, q, x, rows);
        }

        for (int l = 0; l < decoderLayers.Length; l++)
        {
            decoderLayers[l].CrossAttention.Key.Apply(x, output.CrossKeys[l], rows);
            decoderLayers[l].CrossAttention.Value.Apply(x, output.CrossValues[l], rows);
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
        if (capacity > MaxPositions)
        {
            throw new ArgumentException($"decoder length {capacity} exceeds max_position_embeddings {MaxPositions}", nameof(capacity));
        }

        int ffnDim = decoderLayers.Length > 0 ? decoderLayers[0].Fc1.Out : 1;
        return new DecoderState(encoder, rowsPerSequence, capacity, positionsPerCall, D, ffnDim, decoderLayers.Length);
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

        int rows = state.Rows * count;
        Span<float> x = state.Hidden.AsSpan(0, rows * D);
        Span<float> q = state.Query.AsSpan(0, rows * D);
        Span<float> k = state.Key.AsSpan(0, rows * D);
        Span<float> v = state.Value.AsSpan(0, rows * D);
        Span<float> context = state.Context.AsSpan(0, rows * D);
        Span<float> projected = state.Projected.AsSpan(0, rows * D);
        Embed(tokens, decoderEmbedding, TargetVocabSize, start, count, x);

        int heads = Config.DecoderAttentionHeads;
        var selfLayout = new AttentionLayout
        {
            Batch = state.Rows,
            Heads = heads,
            HeadDim = D / heads,
            QueryLength = count,
            KeyLength = start + count,
            QueryRowStride = D,
            QueryBatchStride = (long)count * D,
            KeyValueRowStride = D,
            KeyValueBatchStride = (long)state.Capacity * D,
            Causal = true,
            CausalOffset = start,
            Scale = 1f / MathF.Sqrt(D / heads),
        };
        var encoder = state.Encoder;
        var crossLayout = new AttentionLayout
        {
            Batch = state.Rows,
            Heads = heads,
            HeadDim = D / heads,
            QueryLength = count,
            KeyLength = encoder.SequenceLength,
            QueryRowStride = D,
            QueryBatchStride = (long)count * D,
            KeyValueRowStride = D,
            KeyValueBatchStride = (long)encoder.SequenceLength * D,
            KeyValueGroup = state.RowsPerSequence,
            Scale = 1f / MathF.Sqrt(D / heads),
        };

        for (int l = 0; l < decoderLayers.Length; l++)
        {
            var layer = decoderLayers[l];
            var self = layer.SelfAttention;
            self.Query.Apply(x, q, rows);
            self.Key.Apply(x, k, rows);
            self.Value.Apply(x, v, rows);
            AppendToCache(state, state.SelfKeys[l], k, start, count);
            AppendToCache(state, state.SelfValues[l], v, start, count);
            CpuAttention.Attend(q, state.SelfKeys[l], state.SelfValues[l], context, selfLayout);
            self.Output.Apply(context, projected, rows);
            layer.SelfAttentionNorm.AddAndNormalize(x, projected, x, rows);

            var cross = layer.CrossAttention;
            cross.Query.Apply(x, q, rows);
            CpuAttention.Attend(q, encoder.CrossKeys[l], encoder.CrossValues[l], context, crossLayout, encoder.Lengths);
            cross.Output.Apply(context, projected, rows);
            layer.CrossAttentionNorm.AddAndNormalize(x, projected, x, rows);

            layer.Fc1.Apply(x, state.Ffn, rows, Activation);
            layer.Fc2.Apply(state.Ffn, projected, rows);
            layer.FinalNorm.AddAndNormalize(x, projected, x, rows);
        }

        state.Length = start + count;
        CpuGemm.Linear(x, outputProjection, finalLogitsBias, logits[..(rows * TargetVocabSize)], rows, TargetVocabSize, D);
    }

    /// <summary>Makes row <c>r</c> of the cache a copy of row <c>sourceRows[r]</c> (beam search keeps the survivors).</summary>
    /// <param name="state">The rows' state.</param>
    /// <param name="sourceRows">For each row, the row it continues.</param>
    public void ReorderCache(DecoderState state, ReadOnlySpan<int> sourceRows)
    {
        int used = state.Length * D;
        long rowSize = (long)state.Capacity * D;
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

    private void Embed(ReadOnlySpan<int> ids, float[] table, int vocab, int firstPosition, int positionsPerSequence, Span<float> x)
    {
        for (int t = 0; t < ids.Length; t++)
        {
            int id = ids[t];
            if ((uint)id >= (uint)vocab)
            {
                throw new ArgumentOutOfRangeException(nameof(ids), id, $"token id outside the vocabulary of {vocab}");
            }

            int position = firstPosition + t % positionsPerSequence;
            var row = x.Slice(t * D, D);
            var embedding = table.AsSpan(id * D, D);
            var pos = positions.AsSpan(position * D, D);
            for (int c = 0; c < D; c++)
            {
                row[c] = embedding[c] * embeddingScale + pos[c];
            }
        }
    }

    private void AppendToCache(DecoderState state, float[] cache, ReadOnlySpan<float> values, int start, int count)
    {
        for (int r = 0; r < state.Rows; r++)
        {
            values.Slice(r * count * D, count * D).CopyTo(cache.AsSpan((r * state.Capacity + start) * D, count * D));
        }
    }

    private AttentionLayout SelfLayout(int batch, int length, int heads, bool causal) => new()
    {
        Batch = batch,
        Heads = heads,
        HeadDim = D / heads,
        QueryLength = length,
        KeyLength = length,
        QueryRowStride = D,
        QueryBatchStride = (long)length * D,
        KeyValueRowStride = D,
        KeyValueBatchStride = (long)length * D,
        Causal = causal,
        Scale = 1f / MathF.Sqrt(D / heads),
    };

    private static LinearWeights ReadLinear(WeightStore weights, string prefix, int outFeatures, int inFeatures) =>
        new(weights.ReadFloat32(prefix + "weight", outFeatures, inFeatures), weights.ReadFloat32(prefix + "bias", outFeatures), outFeatures, inFeatures);

    private LayerNormWeights ReadNorm(WeightStore weights, string prefix) =>
        new(weights.ReadFloat32(prefix + "weight", D), weights.ReadFloat32(prefix + "bias", D), LayerNormEpsilon);

    private AttentionWeights ReadAttention(WeightStore weights, string prefix) =>
        new(
            ReadLinear(weights, prefix + "q_proj.", D, D),
            ReadLinear(weights, prefix + "k_proj.", D, D),
            ReadLinear(weights, prefix + "v_proj.", D, D),
            ReadLinear(weights, prefix + "out_proj.", D, D));
}
