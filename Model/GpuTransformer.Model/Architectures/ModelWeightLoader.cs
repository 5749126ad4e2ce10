using GpuTransformer.Kernels;
using GpuTransformer.Model.Configuration;
using GpuTransformer.Model.Weights;
using GpuTransformer.Runtime;

namespace GpuTransformer.Model.Architectures;

/// <summary>
/// Reads a family's tensors by their Hugging Face names and uploads them once to the accelerator. Tied tensors are
/// stored once in the files (<c>model.shared.weight</c>, T5's <c>shared.weight</c>), so the loader resolves the ties
/// itself and uploads each once. The BART-derived families (Marian, BART, mBART, M2M100, Pegasus) share one naming
/// scheme; position tables that HF computes rather than stores are computed here, so the runtime always adds a row.
/// </summary>
internal static class ModelWeightLoader
{
    public static ModelWeights Load(ModelConfig config, ArchitectureSpec spec, WeightStore weights, Accelerator accelerator, ComputeType computeType = ComputeType.Float32, bool int8OutputProjection = false)
    {
        if (computeType == ComputeType.Int8)
        {
            LinearWeight.CheckInt8(accelerator);
        }

        var owned = new List<IDisposable>();
        try
        {
            var builder = new Builder(weights, accelerator, owned, (float)config.LayerNormEpsilon, computeType, int8OutputProjection);
            return spec.T5Layout ? LoadT5(config, spec, weights, builder, owned) : LoadBartFamily(config, spec, weights, builder, owned);
        }
        catch
        {
            foreach (var item in owned)
            {
                item.Dispose();
            }

            throw;
        }
    }

    private static ModelWeights LoadBartFamily(ModelConfig c, ArchitectureSpec spec, WeightStore weights, Builder b, List<IDisposable> owned)
    {
        int d = c.DModel;
        string sharedName = weights.Contains("model.shared.weight") ? "model.shared.weight" : "model.encoder.embed_tokens.weight";
        string encoderName = spec.SeparateDecoderEmbedding && weights.Contains("model.encoder.embed_tokens.weight") ? "model.encoder.embed_tokens.weight" : sharedName;
        string decoderName = spec.SeparateDecoderEmbedding ? "model.decoder.embed_tokens.weight" : encoderName;
        float[]? bias = spec.FinalLogitsBias && weights.Contains("final_logits_bias") ? weights.ReadFloat32("final_logits_bias", 1, c.DecoderVocabSize) : null;

        // The lm_head (tied: the decoder table itself) carries final_logits_bias; the tables the embeddings read are
        // views of the same uploads, so a tied model holds each matrix once.
        LinearWeight output = c.TieWordEmbeddings
            ? b.Output(decoderName, bias, c.DecoderVocabSize, d, LinearWeightUse.GemmAndLookup)
            : b.Output("lm_head.weight", bias, c.DecoderVocabSize, d, LinearWeightUse.Gemm);
        LinearWeight decoderTable = c.TieWordEmbeddings ? output : b.Table(decoderName, c.DecoderVocabSize, d);
        LinearWeight encoderTable = encoderName == decoderName ? decoderTable : b.Table(encoderName, c.VocabSize, d);

        var (encoderPositionTable, decoderPositionTable) = PositionTables(c, spec, weights);
        var encoderPositions = b.Upload(encoderPositionTable).View;
        var decoderPositions = ReferenceEquals(encoderPositionTable, decoderPositionTable) ? encoderPositions : b.Upload(decoderPositionTable).View;

        NormWeights Norm(string prefix) => b.Norm(prefix + "weight", prefix + "bias", d);
        LinearWeight Linear(string prefix, int outFeatures, int inFeatures) =>
            b.Linear(prefix + "weight", weights.ReadFloat32(prefix + "bias", outFeatures), outFeatures, inFeatures);
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

        return new ModelWeights(owned)
        {
            EncoderEmbedding = encoderTable,
            DecoderEmbedding = decoderTable,
            OutputProjection = output,
            EncoderPositions = encoderPositions,
            DecoderPositions = decoderPositions,
            PositionRows = encoderPositionTable.Length / d,
            EncoderEmbeddingNorm = spec.EmbeddingNorm ? Norm("model.encoder.layernorm_embedding.") : null,
            DecoderEmbeddingNorm = spec.EmbeddingNorm ? Norm("model.decoder.layernorm_embedding.") : null,
            EncoderFinalNorm = spec.FinalNorms ? Norm("model.encoder.layer_norm.") : null,
            DecoderFinalNorm = spec.FinalNorms ? Norm("model.decoder.layer_norm.") : null,
            EncoderLayers = encoderLayers,
            DecoderLayers = decoderLayers,
        };
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

    private static ModelWeights LoadT5(ModelConfig c, ArchitectureSpec spec, WeightStore weights, Builder b, List<IDisposable> owned)
    {
        int d = c.DModel, heads = c.EncoderAttentionHeads, inner = heads * c.EncoderHeadDim, ff = c.EncoderFfnDim;
        LinearWeight output = c.TieWordEmbeddings
            ? b.Output("shared.weight", null, c.VocabSize, d, LinearWeightUse.GemmAndLookup)
            : b.Output("lm_head.weight", null, c.VocabSize, d, LinearWeightUse.Gemm);
        LinearWeight shared = c.TieWordEmbeddings ? output : b.Table("shared.weight", c.VocabSize, d);

        NormWeights Norm(string name) => b.Norm(name, null, d);
        LinearWeight Linear(string name, int outFeatures, int inFeatures) => b.Linear(name, null, outFeatures, inFeatures);
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

        return new ModelWeights(owned)
        {
            EncoderEmbedding = shared,
            DecoderEmbedding = shared,
            OutputProjection = output,
            EncoderFinalNorm = Norm("encoder.final_layer_norm.weight"),
            DecoderFinalNorm = Norm("decoder.final_layer_norm.weight"),
            EncoderPositionBias = Bias("encoder", bidirectional: true),
            DecoderPositionBias = Bias("decoder", bidirectional: false),
            EncoderLayers = encoderLayers,
            DecoderLayers = decoderLayers,
        };
    }

    /// <summary>Uploads tensors and remembers each upload so that the weights own (and a failed load frees) them.</summary>
    private sealed class Builder(WeightStore weights, Accelerator accelerator, List<IDisposable> owned, float epsilon, ComputeType computeType, bool int8OutputProjection)
    {
        /// <summary>
        /// Streams a weight from the file into its device layouts a block of rows at a time, so that loading never
        /// holds a float copy of a whole tensor besides the result. Under int8 a GEMM-only weight is quantized.
        /// </summary>
        public LinearWeight Linear(string name, float[]? bias, int outFeatures, int inFeatures, LinearWeightUse use = LinearWeightUse.Gemm) =>
            Linear(name, bias, outFeatures, inFeatures, use, use == LinearWeightUse.Gemm ? computeType : ComputeType.Float32);

        /// <summary>
        /// The output projection (a tied table or lm_head): float unless int8 is asked for it explicitly, because its
        /// logits decide every token (a tied one keeps its float rows for the embedding lookup either way).
        /// </summary>
        public LinearWeight Output(string name, float[]? bias, int outFeatures, int inFeatures, LinearWeightUse use) =>
            Linear(name, bias, outFeatures, inFeatures, use, int8OutputProjection ? computeType : ComputeType.Float32);

        private LinearWeight Linear(string name, float[]? bias, int outFeatures, int inFeatures, LinearWeightUse use, ComputeType type)
        {
            TensorInfo info = weights.GetInfo(name);
            if (!info.HasShape([outFeatures, inFeatures]))
            {
                throw new ModelFormatException(
                    weights.SourceFile,
                    name,
                    $"expected shape {TensorInfo.FormatShape([outFeatures, inFeatures])} but the file has {info.FormatShape()}.");
            }

            var linear = LinearWeight.Create(accelerator, outFeatures, inFeatures, bias, (first, rows) => weights.ReadFloat32(name, (long)first * inFeatures, rows), use, type);
            owned.Add(linear);
            return linear;
        }

        public LinearWeight Table(string name, int rows, int width) => Linear(name, null, rows, width, LinearWeightUse.Lookup);

        public MemoryBuffer<float> Upload(float[] data)
        {
            var buffer = accelerator.Upload<float>(data);
            owned.Add(buffer);
            return buffer;
        }

        public NormWeights Norm(string gammaName, string? betaName, int dim) => new(
            Upload(weights.ReadFloat32(gammaName, dim)),
            betaName is null ? null : Upload(weights.ReadFloat32(betaName, dim)),
            epsilon);
    }
}
