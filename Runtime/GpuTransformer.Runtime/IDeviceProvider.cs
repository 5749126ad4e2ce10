namespace GpuTransformer.Runtime;

/// <summary>A GPU backend as <see cref="DeviceCatalog"/> sees it: it lists its devices and opens one by index.</summary>
internal interface IDeviceProvider
{
    /// <summary>The id prefix: <c>opencl</c> or <c>cuda</c>.</summary>
    string Prefix { get; }

    /// <summary>Lists the devices; empty, with <paramref name="problem"/> saying why, when the backend is absent.</summary>
    /// <param name="problem">Why there are no devices (library not found, no platform, driver error), or null.</param>
    /// <returns>The devices, ids <c>prefix:0</c>, <c>prefix:1</c>, ...</returns>
    IReadOnlyList<DeviceDescription> Enumerate(out string? problem);

    /// <summary>Opens device <paramref name="index"/> of <see cref="Enumerate"/>.</summary>
    /// <param name="index">The device's index.</param>
    /// <returns>The accelerator.</returns>
    Accelerator Open(int index);
}
