namespace GpuTransformer.Tokenizer;

/// <summary>The segmentation algorithm of a SentencePiece model (<c>TrainerSpec.model_type</c>).</summary>
public enum SentencePieceModelType
{
    /// <summary>Unigram language model, segmented with Viterbi.</summary>
    Unigram = 1,

    /// <summary>Byte-pair encoding.</summary>
    Bpe = 2,

    /// <summary>Whitespace-delimited words.</summary>
    Word = 3,

    /// <summary>Single characters.</summary>
    Char = 4,
}
