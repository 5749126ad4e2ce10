using System.Text;

namespace GpuTransformer.Tokenizer;

/// <summary>The <c>convert_tokens_to_string</c> variants of the SentencePiece-based slow tokenizers.</summary>
internal static class SentencePieceText
{
    /// <summary>
    /// M2M100 / Pegasus: runs of ordinary tokens are joined by SentencePiece, special tokens are written verbatim
    /// right after them, and the result is stripped.
    /// </summary>
    public static string JoinWithSpecials(List<string> tokens, SentencePieceModel spm, Func<string, bool> isSpecial)
    {
        var current = new List<string>();
        var output = new StringBuilder();
        foreach (string token in tokens)
        {
            if (isSpecial(token))
            {
                output.Append(spm.DecodePieces(current)).Append(token);
                current.Clear();
            }
            else
            {
                current.Add(token);
            }
        }

        output.Append(spm.DecodePieces(current));
        return PythonText.Strip(output.ToString());
    }

    /// <summary>mBART / NLLB: tokens concatenated, U+2581 turned into spaces, stripped (no SentencePiece decoding).</summary>
    public static string Concatenate(List<string> tokens) =>
        PythonText.Strip(string.Concat(tokens).Replace('\u2581', ' '));
}
