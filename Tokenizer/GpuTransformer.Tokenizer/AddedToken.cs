namespace GpuTransformer.Tokenizer;

/// <summary>
/// A token kept whole when it appears in the text, with the stripping rules of Hugging Face's <c>AddedToken</c>
/// (<c>lstrip</c> eats whitespace on its left, <c>rstrip</c> on its right).
/// </summary>
internal sealed record AddedToken(string Content, bool LStrip = false, bool RStrip = false, bool SingleWord = false, bool Special = true);
