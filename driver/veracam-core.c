// SPDX-License-Identifier: GPL-2.0-only
/*
 * veracam - camera capture driver with a simulated sensor
 *
 * Probe and remove of one camera, its identity and its media graph. A
 * camera is a "veracam,vc1" device tree node on an I2C bus (the sensor's
 * control bus on a board) or one of the platform devices the module
 * creates with num_cameras= where there is no device tree; both bind
 * through veracam_probe() and veracam_remove(). The simulated sensor has
 * no registers on the bus, so the I2C client is only its device.
 *
 * Lifetime: the struct veracam lives until the last file handle on any of
 * its video or subdev nodes is closed (the v4l2_device reference count);
 * remove() only unregisters. Everything that refers to the platform
 * device or its resources is done by the time remove() returns.
 */

#include <linux/i2c.h>
#include <linux/idr.h>
#include <linux/module.h>
#include <linux/of.h>
#include <linux/platform_device.h>
#include <linux/property.h>
#include <linux/slab.h>
#include <linux/string.h>

#include <asm/unaligned.h>

#include "veracam.h"

static int num_cameras = -1;
module_param(num_cameras, int, 0444);
MODULE_PARM_DESC(num_cameras,
		 "number of simulated cameras to create, 0 to 8 (default: 1 without a device tree, 0 with one)");

static char *camera_ids[VERACAM_MAX_CAMERAS];
static unsigned int num_camera_ids;
module_param_array(camera_ids, charp, &num_camera_ids, 0444);
MODULE_PARM_DESC(camera_ids,
		 "unique ids of the cameras by index, 32 hex digits each (default for index i: ca1100NN, 22 zeros, NN; NN = i + 1 in hex)");

static u8 veracam_param_ids[VERACAM_MAX_CAMERAS][VERACAM_UNIQUE_ID_LEN];
static DEFINE_IDA(veracam_ida);
static struct platform_device *veracam_pdevs[VERACAM_MAX_CAMERAS];
static unsigned int veracam_num_pdevs;

/*
 * The unique id: the firmware's "veracam,unique-id" (the sensor's OTP id
 * on hardware), else camera_ids[index], else the uapi default.
 */
static void veracam_init_unique_id(struct veracam *cam)
{
	u8 *id = cam->unique_id;

	if (device_property_read_u8_array(cam->dev, "veracam,unique-id", id,
					  VERACAM_UNIQUE_ID_LEN)) {
		if (cam->index < num_camera_ids && *camera_ids[cam->index]) {
			memcpy(id, veracam_param_ids[cam->index],
			       VERACAM_UNIQUE_ID_LEN);
		} else {
			memset(id, 0, VERACAM_UNIQUE_ID_LEN);
			id[0] = 0xca;
			id[1] = 0x11;
			id[3] = cam->index + 1;
			id[15] = cam->index + 1;
		}
	}

	*bin2hex(cam->unique_id_hex, id, VERACAM_UNIQUE_ID_LEN) = '\0';
	cam->tag = get_unaligned_be32(id);
}

static int veracam_create_links(struct veracam *cam)
{
	struct media_entity *sensor = &cam->sensor.sd.entity;
	u32 flags = MEDIA_LNK_FL_ENABLED | MEDIA_LNK_FL_IMMUTABLE;
	int ret;

	ret = media_create_pad_link(sensor, 0, &cam->video.vdev.entity, 0,
				    flags);
	if (ret)
		return ret;

	return media_create_pad_link(sensor, 0, &cam->meta.vdev.entity, 0,
				     flags);
}

/* The last reference to the camera is gone: free it. */
static void veracam_release(struct v4l2_device *v4l2_dev)
{
	struct veracam *cam = container_of(v4l2_dev, struct veracam, v4l2_dev);

	veracam_node_cleanup(&cam->meta);
	veracam_node_cleanup(&cam->video);
	veracam_sensor_cleanup(&cam->sensor);
	media_device_cleanup(&cam->mdev);
	veracam_gen_free(&cam->gen);
	mutex_destroy(&cam->frame_lock);
	mutex_destroy(&cam->stream_lock);
	kfree(cam);
}

/* @id: the index a platform device was created with, or -1 */
static int veracam_alloc_index(int id)
{
	if (id >= 0)
		return ida_alloc_range(&veracam_ida, id, id, GFP_KERNEL);
	return ida_alloc_max(&veracam_ida, VERACAM_MAX_CAMERAS - 1,
			     GFP_KERNEL);
}

static int veracam_probe(struct device *dev, int id)
{
	struct veracam *cam;
	int index, ret;

	index = veracam_alloc_index(id);
	if (index < 0)
		return dev_err_probe(dev, index, "no free camera index\n");

	cam = kzalloc(sizeof(*cam), GFP_KERNEL);
	if (!cam) {
		ret = -ENOMEM;
		goto err_index;
	}
	cam->dev = dev;
	cam->index = index;
	veracam_init_unique_id(cam);
	veracam_stream_init(cam);
	dev_set_drvdata(dev, cam);

	ret = veracam_gen_init(&cam->gen, index, cam->tag);
	if (ret)
		goto err_gen;

	cam->mdev.dev = dev;
	snprintf(cam->mdev.model, sizeof(cam->mdev.model), "veracam %u (%08x)",
		 index, cam->tag);
	strscpy(cam->mdev.serial, cam->unique_id_hex, sizeof(cam->mdev.serial));
	snprintf(cam->mdev.bus_info, sizeof(cam->mdev.bus_info),
		 "platform:%s.%u", VERACAM_DRIVER_NAME, index);
	media_device_init(&cam->mdev);

	ret = veracam_sensor_init(&cam->sensor, dev, cam->unique_id_hex, index);
	if (ret)
		goto err_media;

	cam->v4l2_dev.mdev = &cam->mdev;
	ret = v4l2_device_register(dev, &cam->v4l2_dev);
	if (ret)
		goto err_sensor;
	/* from here on the last v4l2_device_put() frees the camera */
	cam->v4l2_dev.release = veracam_release;

	ret = v4l2_device_register_subdev(&cam->v4l2_dev, &cam->sensor.sd);
	if (ret)
		goto err_v4l2;

	veracam_sensor_pm_enable(&cam->sensor);

	ret = veracam_video_register(cam);
	if (ret)
		goto err_nodes;

	ret = veracam_meta_register(cam);
	if (ret)
		goto err_nodes;

	ret = veracam_create_links(cam);
	if (ret)
		goto err_nodes;

	ret = v4l2_device_register_subdev_nodes(&cam->v4l2_dev);
	if (ret)
		goto err_nodes;

	ret = media_device_register(&cam->mdev);
	if (ret)
		goto err_nodes;

	dev_info(dev, "veracam %u: unique id %s, %s, %u lanes\n", index,
		 cam->unique_id_hex, cam->mdev.bus_info, cam->sensor.lanes);
	return 0;

err_nodes:
	veracam_node_unregister(&cam->meta);
	veracam_node_unregister(&cam->video);
	veracam_sensor_pm_disable(&cam->sensor);
err_v4l2:
	v4l2_device_unregister(&cam->v4l2_dev);
	v4l2_device_put(&cam->v4l2_dev);
	goto err_index;
err_sensor:
	veracam_sensor_cleanup(&cam->sensor);
err_media:
	media_device_cleanup(&cam->mdev);
err_gen:
	veracam_gen_free(&cam->gen);
	kfree(cam);
err_index:
	ida_free(&veracam_ida, index);
	return ret;
}

static void veracam_remove(struct device *dev)
{
	struct veracam *cam = dev_get_drvdata(dev);
	unsigned int index = cam->index;

	/*
	 * Stop streaming first (it leaves the media pipeline), then hide the
	 * graph. Open file handles get -ENODEV from now on.
	 */
	veracam_node_unregister(&cam->meta);
	veracam_node_unregister(&cam->video);
	media_device_unregister(&cam->mdev);
	veracam_sensor_pm_disable(&cam->sensor);
	v4l2_device_unregister(&cam->v4l2_dev);
	v4l2_device_put(&cam->v4l2_dev);
	ida_free(&veracam_ida, index);
}

static const struct of_device_id veracam_of_match[] = {
	{ .compatible = "veracam,vc1" },
	{ /* sentinel */ }
};
MODULE_DEVICE_TABLE(of, veracam_of_match);

static int veracam_i2c_probe(struct i2c_client *client)
{
	return veracam_probe(&client->dev, -1);
}

static void veracam_i2c_remove(struct i2c_client *client)
{
	veracam_remove(&client->dev);
}

static const struct i2c_device_id veracam_i2c_ids[] = {
	{ "vc1" },
	{ /* sentinel */ }
};
MODULE_DEVICE_TABLE(i2c, veracam_i2c_ids);

static struct i2c_driver veracam_i2c_driver = {
	.probe_new = veracam_i2c_probe,
	.remove = veracam_i2c_remove,
	.id_table = veracam_i2c_ids,
	.driver = {
		.name = VERACAM_DRIVER_NAME,
		.of_match_table = veracam_of_match,
		.pm = pm_ptr(&veracam_sensor_pm_ops),
	},
};

static int veracam_platform_probe(struct platform_device *pdev)
{
	return veracam_probe(&pdev->dev, pdev->id);
}

static int veracam_platform_remove(struct platform_device *pdev)
{
	veracam_remove(&pdev->dev);
	return 0;
}

static struct platform_driver veracam_platform_driver = {
	.probe = veracam_platform_probe,
	.remove = veracam_platform_remove,
	.driver = {
		.name = VERACAM_DRIVER_NAME,
		.of_match_table = veracam_of_match,
		.pm = pm_ptr(&veracam_sensor_pm_ops),
	},
};

static int __init veracam_parse_ids(void)
{
	unsigned int i;

	for (i = 0; i < num_camera_ids; i++) {
		if (!*camera_ids[i])
			continue;
		if (strlen(camera_ids[i]) != VERACAM_UNIQUE_ID_HEX_LEN ||
		    hex2bin(veracam_param_ids[i], camera_ids[i],
			    VERACAM_UNIQUE_ID_LEN)) {
			pr_err("veracam: camera_ids[%u] is not %u hex digits\n",
			       i, VERACAM_UNIQUE_ID_HEX_LEN);
			return -EINVAL;
		}
	}
	return 0;
}

static void veracam_remove_pdevs(void)
{
	while (veracam_num_pdevs)
		platform_device_unregister(veracam_pdevs[--veracam_num_pdevs]);
}

static int __init veracam_init(void)
{
	struct platform_device *pdev;
	unsigned int count;
	int ret;

	ret = veracam_parse_ids();
	if (ret)
		return ret;

	if (num_cameras < 0)
		count = of_have_populated_dt() ? 0 : 1;
	else
		count = num_cameras;
	if (count > VERACAM_MAX_CAMERAS) {
		pr_err("veracam: num_cameras must be 0 to %u\n",
		       VERACAM_MAX_CAMERAS);
		return -EINVAL;
	}

	ret = i2c_add_driver(&veracam_i2c_driver);
	if (ret)
		return ret;

	ret = platform_driver_register(&veracam_platform_driver);
	if (ret)
		goto err_i2c;

	while (veracam_num_pdevs < count) {
		pdev = platform_device_register_simple(VERACAM_DRIVER_NAME,
						       veracam_num_pdevs,
						       NULL, 0);
		if (IS_ERR(pdev)) {
			ret = PTR_ERR(pdev);
			goto err_pdevs;
		}
		veracam_pdevs[veracam_num_pdevs++] = pdev;
	}
	return 0;

err_pdevs:
	veracam_remove_pdevs();
	platform_driver_unregister(&veracam_platform_driver);
err_i2c:
	i2c_del_driver(&veracam_i2c_driver);
	return ret;
}

static void __exit veracam_exit(void)
{
	veracam_remove_pdevs();
	platform_driver_unregister(&veracam_platform_driver);
	i2c_del_driver(&veracam_i2c_driver);
}

module_init(veracam_init);
module_exit(veracam_exit);

MODULE_DESCRIPTION("veracam camera capture driver with a simulated sensor");
MODULE_AUTHOR("The veracam authors");
MODULE_LICENSE("GPL");
