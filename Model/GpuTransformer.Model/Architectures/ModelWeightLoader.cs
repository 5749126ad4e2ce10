using GpuTransformer.Model.Configuration;
using GpuTransformer.Model.Weights;

namespace GpuTransformer.Model.Architectures;

/// <summary>
/// Reads a family's tensors by their Hugging Face names into the runtime's structures. Tied tensors are stored once
/// in the files (<c>model.shared.weight</c>, T5's <c>shared.weight</c>), so the loader resolves the ties itself. The
/// BART-derived families (Marian, BART, mBART, M2M100, Pegasus) share one naming scheme; position tables that HF
/// computes rather than stores are computed here, so the runtime always adds a table row.
/// </summary>
internal static class ModelWeightLoader
{
    /// <summary>Everything <see cref="EncoderDecoderModel"/> reads, resolved from one family's names.</summary>
    internal sealed record Loaded(
        float[] EncoderEmbedding,
        float[] DecoderEmbedding,
        float[] OutputProjection,
        float[]? FinalLogitsBias,
        float[]? EncoderPositions,
        float[]? DecoderPositions,
        NormWeights? EncoderEmbeddingNorm,
        NormWeights? DecoderEmbeddingNorm,
        NormWeights? EncoderFinalNorm,
        NormWeights? DecoderFinalNorm,
        RelativePositionBias? EncoderPositionBias,
        RelativePositionBias? DecoderPositionBias,
        EncoderLayerWeights[] EncoderLayers,
        DecoderLayerWeights[] DecoderLayers);

    public static Loaded Load(ModelConfig config, ArchitectureSpec spec, WeightStore weights) =>
        spec.T5Layout ? LoadT5(config, spec, weights) : LoadBartFamily(config, spec, weights);

    private static Loaded LoadBartFamily(ModelConfig c, ArchitectureSpec spec, WeightStore weights)
    {
        int d = c.DModel;
        float eps = (float)c.LayerNormEpsilon;
        string sharedName = weights.Contains("model.shared.weight") ? "model.shared.weight" : "model.encoder.embed_tokens.weight";
        float[] encoderEmbedding = spec.SeparateDecoderEmbedding && weights.Contains("model.encoder.embed_tokens.weight")
            ? weights.ReadFloat32("model.encoder.embed_tokens.weight", c.VocabSize, d)
            : weights.ReadFloat32(sharedName, c.VocabSize, d);
        float[] decoderEmbedding = spec.SeparateDecoderEmbedding
            ? weights.ReadFloat32("model.decoder.embed_tokens.weight", c.DecoderVocabSize, d)
            : encoderEmbedding;
        float[] output = c.TieWordEmbeddings ? decoderEmbedding : weights.ReadFloat32("lm_head.weight", c.DecoderVocabSize, d);
        float[]? bias = spec.FinalLogitsBias && weights.Contains("final_logits_bias") ? weights.ReadFloat32("final_logits_bias", 1, c.DecoderVocabSize) : null;
        var (encoderPositions, decoderPositions) = PositionTables(c, spec, weights);

        NormWeights Norm(string prefix) => new(weights.ReadFloat32(prefix + "weight", d), weights.ReadFloat32(prefix + "bias", d), eps);
        LinearWeights Linear(string prefix, int outFeatures, int inFeatures) =>
            new(weights.ReadFloat32(prefix + "weight", outFeatures, inFeatures), weights.ReadFloat32(prefix + "bias", outFeatures), outFeatures, inFeatures);
        AttentionWeights Attention(string prefix) =>
            new(Linear(prefix + "q_proj.", d, d), Linear(prefix + "k_proj.", d, d), Linear(prefix + "v_proj.", d, d), Linear(prefix + "out_proj.", d, d));

        var encoderLayers = new EncoderLayerWeights[c.EncoderLayers];
        for (int l = 0; l < encoderLayers.Length; l++)
        {
            string p = $"model.encoder.layers.{l}.";
            encoderLayers[l] = new EncoderLayerWeights(
                Attention(p + "self_attn."),
                Norm(p + "self_attn_layer_norm."),
                new FeedForwardWeights(Linear(p + "fc1.", c.EncoderFfnDim, d), null, Linear(p + "fc2.", d, c.EncoderFfnDim)),
                Norm(p + "final_layer_norm."));
        }

        var decoderLayers = new DecoderLayerWeights[c.DecoderLayers];
        for (int l = 0; l < decoderLayers.Length; l++)
        {
            string p = $"model.decoder.layers.{l}.";
            decoderLayers[l] = new DecoderLayerWeights(
                Attention(p + "self_attn."),
                Norm(p + "self_attn_layer_norm."),
                Attention(p + "encoder_attn."),
                Norm(p + "encoder_attn_layer_norm."),
                new FeedForwardWeights(Linear(p + "fc1.", c.DecoderFfnDim, d), null, Linear(p + "fc2.", d, c.DecoderFfnDim)),
                Norm(p + "final_layer_norm."));
        }

        return new Loaded(
            encoderEmbedding,
            decoderEmbedding,
            output,
            bias,
            encoderPositions,
            decoderPositions,
            spec.EmbeddingNorm ? Norm("model.encoder.layernorm_embedding.") : null,
            spec.EmbeddingNorm ? Norm("model.decoder.layernorm_embedding.") : null,
            spec.FinalNorms ? Norm("model.encoder.layer_norm.") : null,
            spec.FinalNorms ? Norm("model.decoder.layer_norm.") : null,
            null,
            null,
            encoderLayers,
            decoderLayers);
    }

    /// <summary>The encoder's and decoder's position tables, <c>[rows, d_model]</c>, indexed by position + offset.</summary>
    private static (float[] Encoder, float[] Decoder) PositionTables(ModelConfig c, ArchitectureSpec spec, WeightStore weights)
    {
        int d = c.DModel;
        switch (spec.Positions)
        {
            case PositionEncoding.Learned:
            {
                int rows = c.MaxPositionEmbeddings + spec.PositionOffset;
                return (weights.ReadFloat32("model.encoder.embed_positions.weight", rows, d), weights.ReadFloat32("model.decoder.embed_positions.weight", rows, d));
            }

            case PositionEncoding.Sinusoidal:
            {
                // Pegasus (and older Marian conversions) store the table as embed_positions.weight, and HF loads what
                // is stored over the table it computed; newer Marian files leave it out.
                float[]? computed = null;
                float[] Table(string name) => weights.Contains(name)
                    ? weights.ReadFloat32(name, c.MaxPositionEmbeddings, d)
                    : computed ??= SinusoidalPositions.Create(c.MaxPositionEmbeddings, d);
                return (Table("model.encoder.embed_positions.weight"), Table("model.decoder.embed_positions.weight"));
            }

            case PositionEncoding.FairseqSinusoidal:
            {
                if (d < 4)
                {
                    throw new ModelFormatException(c.SourceFile, "d_model", $"m2m_100's sinusoidal positions need d_model of at least 4, got {d}.");
                }

                // HF sizes the table max_position_embeddings + 2 and grows it on demand; rows up to the last position
                // a max_position_embeddings-long sequence reaches are enough here.
                int padding = spec.PositionPaddingId ?? 0;
                float[] table = FairseqSinusoidalPositions.Create(Math.Max(c.MaxPositionEmbeddings + spec.PositionOffset, padding + 1), d, padding);
                return (table, table);
            }

            default:
                throw new InvalidOperationException($"no position table for {spec.Positions}");
        }
    }

    private static Loaded LoadT5(ModelConfig c, ArchitectureSpec spec, WeightStore weights)
    {
        int d = c.DModel, heads = c.EncoderAttentionHeads, inner = heads * c.EncoderHeadDim, ff = c.EncoderFfnDim;
        float eps = (float)c.LayerNormEpsilon;
        float[] shared = weights.ReadFloat32("shared.weight", c.VocabSize, d);
        float[] output = c.TieWordEmbeddings ? shared : weights.ReadFloat32("lm_head.weight", c.VocabSize, d);

        NormWeights Norm(string name) => new(weights.ReadFloat32(name, d), null, eps);
        LinearWeights Linear(string name, int outFeatures, int inFeatures) => new(weights.ReadFloat32(name, outFeatures, inFeatures), null, outFeatures, inFeatures);
        AttentionWeights Attention(string prefix) =>
            new(Linear(prefix + "q.weight", inner, d), Linear(prefix + "k.weight", inner, d), Linear(prefix + "v.weight", inner, d), Linear(prefix + "o.weight", d, inner));
        FeedForwardWeights FeedForward(string prefix) => spec.GatedFfn
            ? new(Linear(prefix + "wi_0.weight", ff, d), Linear(prefix + "wi_1.weight", ff, d), Linear(prefix + "wo.weight", d, ff))
            : new(Linear(prefix + "wi.weight", ff, d), null, Linear(prefix + "wo.weight", d, ff));
        RelativePositionBias Bias(string stack, bool bidirectional) => new(
            weights.ReadFloat32($"{stack}.block.0.layer.0.SelfAttention.relative_attention_bias.weight", c.RelativeAttentionNumBuckets, heads),
            c.RelativeAttentionNumBuckets,
            heads,
            c.RelativeAttentionMaxDistance,
            bidirectional);

        var encoderLayers = new EncoderLayerWeights[c.EncoderLayers];
        for (int l = 0; l < encoderLayers.Length; l++)
        {
            string p = $"encoder.block.{l}.layer.";
            encoderLayers[l] = new EncoderLayerWeights(Attention(p + "0.SelfAttention."), Norm(p + "0.layer_norm.weight"), FeedForward(p + "1.DenseReluDense."), Norm(p + "1.layer_norm.weight"));
        }

        var decoderLayers = new DecoderLayerWeights[c.DecoderLayers];
        for (int l = 0; l < decoderLayers.Length; l++)
        {
            string p = $"decoder.block.{l}.layer.";
            decoderLayers[l] = new DecoderLayerWeights(
                Attention(p + "0.SelfAttention."),
                Norm(p + "0.layer_norm.weight"),
                Attention(p + "1.EncDecAttention."),
                Norm(p + "1.layer_norm.weight"),
                FeedForward(p + "2.DenseReluDense."),
                Norm(p + "2.layer_norm.weight"));
        }

        return new Loaded(
            shared,
            shared,
            output,
            null,
            null,
            null,
            null,
            null,
            Norm("encoder.final_layer_norm.weight"),
            Norm("decoder.final_layer_norm.weight"),
            Bias("encoder", bidirectional: true),
            Bias("decoder", bidirectional: false),
            encoderLayers,
            decoderLayers);
    }
}
