namespace GpuTransformer.Runtime;

/// <summary>A device, driver or compiler reported a failure; the message says which call and why.</summary>
public class DeviceException : Exception
{
    /// <summary>Creates an exception with a default message.</summary>
    public DeviceException()
        : base("A device operation failed.")
    {
    }

    /// <summary>Creates an exception with a message.</summary>
    /// <param name="message">What failed.</param>
    public DeviceException(string message)
        : base(message)
    {
    }

    /// <summary>Creates an exception with a message and its cause.</summary>
    /// <param name="message">What failed.</param>
    /// <param name="innerException">The cause.</param>
    public DeviceException(string message, Exception? innerException)
        : base(message, innerException)
    {
    }
}
