namespace GpuTransformer.Model.Weights;

/// <summary>Name, element type and shape of one tensor in a weight file.</summary>
public sealed class TensorInfo
{
    private readonly int[] _shape;

    /// <summary>Creates a description of a tensor.</summary>
    /// <param name="name">The tensor's name in the file, e.g. <c>model.shared.weight</c>.</param>
    /// <param name="dtype">Its stored element type.</param>
    /// <param name="shape">Its dimensions, outermost first; an empty shape is a scalar.</param>
    /// <exception cref="ArgumentNullException"><paramref name="name"/> or <paramref name="shape"/> is null.</exception>
    /// <exception cref="ArgumentException">A dimension is negative or the element count overflows 64 bits.</exception>
    public TensorInfo(string name, TensorDType dtype, ReadOnlySpan<int> shape)
    {
        ArgumentNullException.ThrowIfNull(name);
        long count = 1;
        foreach (int dimension in shape)
        {
            if (dimension < 0)
            {
                throw new ArgumentException($"Tensor '{name}' has a negative dimension {dimension}.", nameof(shape));
            }

            try
            {
                count = checked(count * dimension);
            }
            catch (OverflowException e)
            {
                throw new ArgumentException($"Tensor '{name}' has more elements than fit in 64 bits.", nameof(shape), e);
            }
        }

        Name = name;
        DType = dtype;
        _shape = shape.ToArray();
        ElementCount = count;
    }

    /// <summary>The tensor's name in the file.</summary>
    public string Name { get; }

    /// <summary>The stored element type.</summary>
    public TensorDType DType { get; }

    /// <summary>The dimensions, outermost first. Each call returns a fresh copy, so callers may keep or modify it.</summary>
    public int[] Shape => (int[])_shape.Clone();

    /// <summary>Number of dimensions.</summary>
    public int Rank => _shape.Length;

    /// <summary>Product of the dimensions (1 for a scalar).</summary>
    public long ElementCount { get; }

    /// <summary>Returns one dimension without copying the shape.</summary>
    /// <param name="axis">Index of the dimension, 0 being the outermost.</param>
    /// <returns>The size of that dimension.</returns>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="axis"/> is not below <see cref="Rank"/>.</exception>
    public int GetDimension(int axis)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(axis);
        ArgumentOutOfRangeException.ThrowIfGreaterThanOrEqual(axis, _shape.Length);
        return _shape[axis];
    }

    /// <summary>Whether the shape equals <paramref name="expected"/> exactly.</summary>
    /// <param name="expected">The dimensions to compare with.</param>
    /// <returns><see langword="true"/> when rank and every dimension match.</returns>
    public bool HasShape(ReadOnlySpan<int> expected) => expected.SequenceEqual(_shape);

    /// <summary>The shape written as <c>[a, b, c]</c>, for messages.</summary>
    /// <returns>The formatted shape.</returns>
    public string FormatShape() => FormatShape(_shape);

    /// <inheritdoc/>
    public override string ToString() => $"{Name} {DType} {FormatShape()}";

    internal static string FormatShape(ReadOnlySpan<int> shape) => "[" + string.Join(", ", shape.ToArray()) + "]";
}
