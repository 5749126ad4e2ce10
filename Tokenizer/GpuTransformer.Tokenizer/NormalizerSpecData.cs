namespace GpuTransformer.Tokenizer;

/// <summary>SentencePiece's <c>NormalizerSpec</c> (also used for the optional <c>denormalizer_spec</c>).</summary>
internal sealed class NormalizerSpecData
{
    public string Name { get; set; } = string.Empty;

    public byte[] PrecompiledCharsMap { get; set; } = [];

    public bool AddDummyPrefix { get; set; } = true;

    public bool RemoveExtraWhitespaces { get; set; } = true;

    public bool EscapeWhitespaces { get; set; } = true;
}
