namespace GpuTransformer.Kernels;

/// <summary>
/// Where the rows of a matrix operand live: <see cref="Batch"/> blocks of <see cref="Rows"/> rows, row <c>r</c> of
/// block <c>b</c> starting at <c>b * BatchStride + r * RowStride</c>. Lets a product read or write rows in place, for
/// example the keys of a decoding step straight into their slot of a KV cache.
/// </summary>
/// <param name="Batch">Blocks.</param>
/// <param name="Rows">Rows per block.</param>
/// <param name="RowStride">Elements between consecutive rows.</param>
/// <param name="BatchStride">Elements between consecutive blocks.</param>
public readonly record struct RowLayout(int Batch, int Rows, int RowStride, long BatchStride)
{
    /// <summary>Rows in all blocks.</summary>
    public int TotalRows => Batch * Rows;

    /// <summary><paramref name="rows"/> rows of <paramref name="width"/> elements, one after another.</summary>
    /// <param name="rows">Rows.</param>
    /// <param name="width">Elements per row.</param>
    /// <returns>The layout.</returns>
    public static RowLayout Contiguous(int rows, int width) => new(1, rows, width, (long)rows * width);

    /// <summary>Elements a view needs to hold rows of <paramref name="width"/> in this layout.</summary>
    /// <param name="width">Elements used per row.</param>
    /// <returns>The span from the first element to the last.</returns>
    public long RequiredLength(int width) => Batch == 0 || Rows == 0 ? 0 : (Batch - 1) * BatchStride + (long)(Rows - 1) * RowStride + width;

    /// <summary>Throws unless the layout is well formed for rows of <paramref name="width"/> and fits <paramref name="length"/>.</summary>
    /// <param name="width">Elements used per row.</param>
    /// <param name="length">The view's length.</param>
    /// <param name="name">The operand's name, for the message.</param>
    /// <exception cref="ArgumentException">It is not.</exception>
    public void Validate(int width, int length, string name)
    {
        if (Batch < 0 || Rows < 0 || (Rows > 1 && RowStride < width) || (Batch > 1 && BatchStride < 0))
        {
            throw new ArgumentException($"{name}: invalid layout {this} for rows of {width}", name);
        }

        if (RequiredLength(width) > length)
        {
            throw new ArgumentException($"{name}: a view of {length} elements is too short for {this} with rows of {width}", name);
        }
    }
}
