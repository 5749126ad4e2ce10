namespace GpuTransformer.Model;

/// <summary>What a loaded model is: architecture, sizes and parameter count.</summary>
public sealed record ModelInfo
{
    /// <summary>config.json's <c>model_type</c>.</summary>
    public required string Architecture { get; init; }

    /// <summary>The weight file that was read.</summary>
    public required string WeightsFile { get; init; }

    /// <summary>The stored dtype of the weights (F32, F16, BF16).</summary>
    public required string WeightsDType { get; init; }

    /// <summary>d_model.</summary>
    public required int ModelDim { get; init; }

    /// <summary>Encoder layers.</summary>
    public required int EncoderLayers { get; init; }

    /// <summary>Decoder layers.</summary>
    public required int DecoderLayers { get; init; }

    /// <summary>Attention heads (encoder).</summary>
    public required int Heads { get; init; }

    /// <summary>Feed-forward width (encoder).</summary>
    public required int FfnDim { get; init; }

    /// <summary>Source vocabulary size.</summary>
    public required int SourceVocabSize { get; init; }

    /// <summary>Target vocabulary size.</summary>
    public required int TargetVocabSize { get; init; }

    /// <summary>Longest input and output, in tokens.</summary>
    public required int MaxPositions { get; init; }

    /// <summary>The activation function.</summary>
    public required string Activation { get; init; }

    /// <summary>Trainable parameters, each tied tensor counted once (as <c>model.num_parameters()</c>).</summary>
    public required long Parameters { get; init; }
}
