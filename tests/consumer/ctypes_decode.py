"""Loads librvae.so with ctypes and decodes through the C API: what an FFI user does.

Usage: python3 ctypes_decode.py /path/to/librvae.so (with RVAE_TEST_ENDPOINT set, as
with_endpoint does). Prints "ctypes ok" on success."""
import ctypes
import os
import sys


class TensorView(ctypes.Structure):
    _fields_ = [("data", ctypes.c_void_p), ("shape", ctypes.POINTER(ctypes.c_int64)),
                ("ndim", ctypes.c_int), ("dtype", ctypes.c_int)]


class Image(ctypes.Structure):
    _fields_ = [("width", ctypes.c_uint32), ("height", ctypes.c_uint32),
                ("channels", ctypes.c_uint32), ("data", ctypes.POINTER(ctypes.c_uint8))]


RVAE_DTYPE_FLOAT32 = 0
RVAE_ERR_INVALID_ARGUMENT = 1


def main():
    lib = ctypes.CDLL(sys.argv[1])
    lib.rvae_version.restype = ctypes.c_char_p
    lib.rvae_client_new.restype = ctypes.c_void_p
    lib.rvae_client_new.argtypes = [ctypes.c_void_p, ctypes.POINTER(ctypes.c_void_p)]
    lib.rvae_client_free.argtypes = [ctypes.c_void_p]
    lib.rvae_decode.argtypes = [ctypes.c_void_p, ctypes.c_char_p, ctypes.POINTER(TensorView),
                                ctypes.c_void_p, ctypes.POINTER(Image),
                                ctypes.POINTER(ctypes.c_void_p)]
    lib.rvae_image_free.argtypes = [ctypes.POINTER(Image)]
    lib.rvae_error_message.restype = ctypes.c_char_p
    lib.rvae_error_message.argtypes = [ctypes.c_void_p]
    lib.rvae_error_free.argtypes = [ctypes.c_void_p]

    err = ctypes.c_void_p()
    client = lib.rvae_client_new(None, ctypes.byref(err))
    assert client, lib.rvae_error_message(err)

    shape = (ctypes.c_int64 * 4)(1, 4, 8, 4)
    values = (ctypes.c_float * (4 * 8 * 4))(*[(i % 9) * 0.05 for i in range(4 * 8 * 4)])
    view = TensorView(ctypes.cast(values, ctypes.c_void_p), shape, 4, RVAE_DTYPE_FLOAT32)
    image = Image()
    url = (os.environ["RVAE_TEST_ENDPOINT"] + "/sd15/decode/").encode()
    status = lib.rvae_decode(client, url, ctypes.byref(view), None, ctypes.byref(image),
                             ctypes.byref(err))
    assert status == 0, lib.rvae_error_message(err)
    assert (image.width, image.height, image.channels) == (32, 64, 3), (image.width, image.height)
    assert any(image.data[i] != image.data[0] for i in range(image.width * 3))
    lib.rvae_image_free(ctypes.byref(image))

    # A mistake in the call is an error code and a message, not a crash of the interpreter.
    status = lib.rvae_decode(client, url, None, None, ctypes.byref(image), ctypes.byref(err))
    assert status == RVAE_ERR_INVALID_ARGUMENT, status
    assert b"latents is NULL" in lib.rvae_error_message(err)
    lib.rvae_error_free(err)

    lib.rvae_client_free(client)
    print("ctypes ok (rvae %s)" % lib.rvae_version().decode())


if __name__ == "__main__":
    main()
